/**
 * Batches in a form that crosses to the writer thread cheaply: the entries'
 * bytes in one buffer (transferred, not copied), and the leaf hashes in
 * another, whether a sealed batch goes there to be committed or a sequenced
 * one to be sealed and committed (and its leaf hashes come back).
 * Structured-cloning a batch as objects costs about 4 µs an event; this well
 * under 1 (measured over batches of 1,000 bench events). The index rows do
 * not cross: the writer derives them from the canonical bytes with
 * verification's scanner (entryScan.ts), on the core the service's thread
 * leaves idle. Cloning them cost the service's thread more than deriving them
 * costs the writer's; the scanner, which builds no record, costs the writer
 * about a quarter less than JSON.parse and indexRowOf (2.1 µs an event
 * against 2.75), which it leaves an entry to when it is not plain ASCII.
 */
import { Buffer } from 'node:buffer';
import type { Batch, IndexRow, StoredEntry, TreeHash } from '../driver.js';
import { rowOfEntry } from '../entryScan.js';
import type { SealedBatch, UnsealedBatch, UnsealedEntry } from '../seal.js';

/** A sealed batch as posted to the writer thread, to commit. */
export interface WireBatch {
  first: number;
  ids: string[];
  /** Every entry's bytes, one after another. */
  data: Uint8Array;
  /** Where each entry's bytes start in `data`, then where the last ends: `ids.length + 1` offsets. */
  offsets: Uint32Array;
  /** The leaf hashes, 32 bytes each. */
  leafHashes: Uint8Array;
  hashes: TreeHash[];
  checkpoint: Batch['checkpoint'];
  historic: boolean;
  parent: Batch['parent'];
}

/** The batch as posted, and the buffers to transfer with it. */
export function batchToWire(batch: Batch): { wire: WireBatch; transfer: ArrayBuffer[] } {
  const n = batch.entries.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += batch.entries[i]!.bytes.byteLength;
  const data = new Uint8Array(total);
  const offsets = new Uint32Array(n + 1);
  const leafHashes = new Uint8Array(n * 32);
  const ids: string[] = new Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const e = batch.entries[i]!;
    if (e.index !== batch.entries[0]!.index + i) throw new Error('a batch holds consecutive entries');
    data.set(e.bytes, at);
    offsets[i] = at;
    at += e.bytes.byteLength;
    leafHashes.set(e.leafHash, i * 32);
    ids[i] = e.id;
  }
  offsets[n] = total;
  const wire: WireBatch = {
    first: batch.entries[0]?.index ?? batch.checkpoint.size,
    ids,
    data,
    offsets,
    leafHashes,
    hashes: [...batch.hashes],
    checkpoint: batch.checkpoint,
    historic: batch.historic,
    parent: batch.parent,
  };
  return { wire, transfer: [data.buffer as ArrayBuffer, offsets.buffer as ArrayBuffer, leafHashes.buffer as ArrayBuffer] };
}

/** The batch again, its entries viewing the posted buffers, each with its index row. */
export function batchFromWire(wire: WireBatch): Batch {
  const { ids, data, offsets, leafHashes } = wire;
  if (offsets.length !== ids.length + 1 || offsets[ids.length] !== data.byteLength) throw new Error('the batch does not hold one offset per entry');
  // One string of the whole batch, a character per byte: each entry's text is a slice of it.
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  const entries: (StoredEntry & { row: IndexRow })[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    const bytes = data.subarray(start, end);
    entries[i] = {
      index: wire.first + i,
      id: ids[i]!,
      bytes,
      leafHash: leafHashes.subarray(i * 32, i * 32 + 32),
      row: rowOfEntry(bytes, text.slice(start, end)),
    };
  }
  return { entries, hashes: wire.hashes, checkpoint: wire.checkpoint, historic: wire.historic, parent: wire.parent };
}

/** A sequenced batch as posted to the writer thread, to seal and commit. */
export interface WireUnsealed {
  first: number;
  ids: string[];
  /** Every entry's bytes, one after another. */
  data: Uint8Array;
  /** Where each entry's bytes start in `data`, then where the last ends: `ids.length + 1` offsets. */
  offsets: Uint32Array;
  created: number;
  historic: boolean;
  view: number;
}

/** What the writer thread answers for a committed batch. */
export interface WireSealed {
  size: number;
  note: string;
  root: Uint8Array;
  /** The leaf hashes, 32 bytes each. */
  leafHashes: Uint8Array;
}

/** The batch as posted, and the buffers to transfer with it. */
export function unsealedToWire(batch: UnsealedBatch): { wire: WireUnsealed; transfer: ArrayBuffer[] } {
  const { entries } = batch;
  const n = entries.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += entries[i]!.bytes.byteLength;
  const data = new Uint8Array(total);
  const offsets = new Uint32Array(n + 1);
  const ids: string[] = new Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    if (e.index !== entries[0]!.index + i) throw new Error('a batch holds consecutive entries');
    data.set(e.bytes, at);
    offsets[i] = at;
    at += e.bytes.byteLength;
    ids[i] = e.id;
  }
  offsets[n] = total;
  const wire: WireUnsealed = { first: entries[0]?.index ?? 0, ids, data, offsets, created: batch.created, historic: batch.historic, view: batch.view };
  return { wire, transfer: [data.buffer as ArrayBuffer, offsets.buffer as ArrayBuffer] };
}

/** The batch again, its entries viewing the posted buffers, each with its index row. */
export function unsealedFromWire(wire: WireUnsealed): UnsealedBatch {
  const { ids, data, offsets } = wire;
  if (offsets.length !== ids.length + 1 || offsets[ids.length] !== data.byteLength) throw new Error('the batch does not hold one offset per entry');
  // One string of the whole batch, a character per byte: each entry's text is a slice of it.
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  const entries: UnsealedEntry[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    const bytes = data.subarray(start, end);
    entries[i] = { index: wire.first + i, id: ids[i]!, bytes, row: rowOfEntry(bytes, text.slice(start, end)) };
  }
  return { entries, created: wire.created, historic: wire.historic, view: wire.view };
}

/** The sealed answer as posted back, and the buffer to transfer with it. */
export function sealedToWire(sealed: SealedBatch): { wire: WireSealed; transfer: ArrayBuffer[] } {
  const leafHashes = new Uint8Array(sealed.leafHashes.length * 32);
  sealed.leafHashes.forEach((h, i) => leafHashes.set(h, i * 32));
  return { wire: { size: sealed.size, note: sealed.note, root: sealed.root.slice(), leafHashes }, transfer: [leafHashes.buffer as ArrayBuffer] };
}

/** The sealed answer again, each leaf hash viewing the posted buffer. */
export function sealedFromWire(wire: WireSealed): SealedBatch {
  const { leafHashes } = wire;
  const hashes: Uint8Array[] = new Array(leafHashes.length / 32);
  for (let i = 0; i < hashes.length; i++) hashes[i] = leafHashes.subarray(i * 32, i * 32 + 32);
  return { size: wire.size, note: wire.note, root: wire.root, leafHashes: hashes };
}
