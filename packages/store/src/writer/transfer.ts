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

/** A batch's entries as they cross: their bytes one after another, and where each starts. */
interface WireEntries {
  first: number;
  ids: string[];
  /** Every entry's bytes, one after another. */
  data: Uint8Array;
  /** Where each entry's bytes start in `data`, then where the last ends: `ids.length + 1` offsets. */
  offsets: Uint32Array;
}

/** A sealed batch as posted to the writer thread, to commit. */
export interface WireBatch extends WireEntries {
  /** The leaf hashes, 32 bytes each. */
  leafHashes: Uint8Array;
  hashes: TreeHash[];
  checkpoint: Batch['checkpoint'];
  historic: boolean;
  parent: Batch['parent'];
}

/** A sequenced batch as posted to the writer thread, to seal and commit. */
export interface WireUnsealed extends WireEntries {
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

/** Consecutive entries (from `first` when there are none) as they cross. */
function entriesToWire(entries: readonly { index: number; id: string; bytes: Uint8Array }[], first: number): WireEntries {
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
  return { first: entries[0]?.index ?? first, ids, data, offsets };
}

/** The entries again, viewing the posted buffers, each with its index row (and its leaf hash when they came with theirs). */
function entriesFromWire(wire: WireEntries): UnsealedEntry[];
function entriesFromWire(wire: WireEntries, leafHashes: Uint8Array): (StoredEntry & { row: IndexRow })[];
function entriesFromWire(wire: WireEntries, leafHashes?: Uint8Array): (UnsealedEntry | StoredEntry)[] {
  const { ids, data, offsets } = wire;
  if (offsets.length !== ids.length + 1 || offsets[ids.length] !== data.byteLength) throw new Error('the batch does not hold one offset per entry');
  // One string of the whole batch, a character per byte: each entry's text is a slice of it.
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  const entries: (UnsealedEntry | StoredEntry)[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    const bytes = data.subarray(start, end);
    const row = rowOfEntry(bytes, text.slice(start, end));
    entries[i] = leafHashes
      ? { index: wire.first + i, id: ids[i]!, bytes, leafHash: leafHashes.subarray(i * 32, i * 32 + 32), row }
      : { index: wire.first + i, id: ids[i]!, bytes, row };
  }
  return entries;
}

/** Hashes of 32 bytes, one after another. */
function packHashes(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32);
  for (let i = 0; i < hashes.length; i++) out.set(hashes[i]!, i * 32);
  return out;
}

/** The packed hashes again, each viewing the buffer. */
function unpackHashes(packed: Uint8Array): Uint8Array[] {
  const hashes: Uint8Array[] = new Array(packed.length / 32);
  for (let i = 0; i < hashes.length; i++) hashes[i] = packed.subarray(i * 32, i * 32 + 32);
  return hashes;
}

/** The buffers of posted entries, to transfer rather than copy. */
const buffersOf = (wire: WireEntries): ArrayBuffer[] => [wire.data.buffer as ArrayBuffer, wire.offsets.buffer as ArrayBuffer];

/** The batch as posted, and the buffers to transfer with it. */
export function batchToWire(batch: Batch): { wire: WireBatch; transfer: ArrayBuffer[] } {
  const entries = entriesToWire(batch.entries, batch.checkpoint.size);
  const leafHashes = packHashes(batch.entries.map((e) => e.leafHash));
  const wire: WireBatch = { ...entries, leafHashes, hashes: [...batch.hashes], checkpoint: batch.checkpoint, historic: batch.historic, parent: batch.parent };
  return { wire, transfer: [...buffersOf(entries), leafHashes.buffer as ArrayBuffer] };
}

/** The batch again, its entries viewing the posted buffers, each with its index row. */
export function batchFromWire(wire: WireBatch): Batch {
  return { entries: entriesFromWire(wire, wire.leafHashes), hashes: wire.hashes, checkpoint: wire.checkpoint, historic: wire.historic, parent: wire.parent };
}

/** The batch as posted, and the buffers to transfer with it. */
export function unsealedToWire(batch: UnsealedBatch): { wire: WireUnsealed; transfer: ArrayBuffer[] } {
  const entries = entriesToWire(batch.entries, 0);
  return { wire: { ...entries, created: batch.created, historic: batch.historic, view: batch.view }, transfer: buffersOf(entries) };
}

/** The batch again, its entries viewing the posted buffers, each with its index row. */
export function unsealedFromWire(wire: WireUnsealed): UnsealedBatch {
  return { entries: entriesFromWire(wire), created: wire.created, historic: wire.historic, view: wire.view };
}

/** The sealed answer as posted back, and the buffer to transfer with it. */
export function sealedToWire(sealed: SealedBatch): { wire: WireSealed; transfer: ArrayBuffer[] } {
  const leafHashes = packHashes(sealed.leafHashes);
  return { wire: { size: sealed.size, note: sealed.note, root: sealed.root.slice(), leafHashes }, transfer: [leafHashes.buffer as ArrayBuffer] };
}

/** The sealed answer again, each leaf hash viewing the posted buffer. */
export function sealedFromWire(wire: WireSealed): SealedBatch {
  return { size: wire.size, note: wire.note, root: wire.root, leafHashes: unpackHashes(wire.leafHashes) };
}
