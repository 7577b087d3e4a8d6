import { recordBytes, toRecord, validateEvent } from '@stele/log';
import { describe, expect, test } from 'vitest';
import { nodeHasher } from '../hash.js';
import { indexRowOf } from '../indexRow.js';
import type { Batch } from '../driver.js';
import type { SealedBatch, UnsealedBatch } from '../seal.js';
import { event } from '../testEvent.js';
import { batchFromWire, batchToWire, sealedFromWire, sealedToWire, unsealedFromWire, unsealedToWire } from './transfer.js';

/** A batch of `n` entries from `first`, some with text outside ASCII and escapes. */
function batchOf(first: number, n: number): UnsealedBatch {
  const entries = Array.from({ length: n }, (_, k) => {
    const i = first + k;
    const result = validateEvent(event(i, { id: `e-${i}`, reason: i % 2 === 0 ? `Zoë's "fix"\n\tline ${i}` : `plain ${i}` }));
    if (!result.ok) throw new Error('test event invalid');
    const record = toRecord(result.event, { id: `e-${i}`, received: '2026-11-27T12:00:00.000Z', index: i });
    return { index: i, id: record.id, bytes: Uint8Array.from(recordBytes(record)), row: indexRowOf(record) };
  });
  return { entries, created: 1, historic: false, view: 3 };
}

/** A sealed batch of `n` entries from `first`, some with text outside ASCII and escapes. */
function sealedBatchOf(first: number, n: number): Batch {
  const entries = Array.from({ length: n }, (_, k) => {
    const i = first + k;
    const result = validateEvent(event(i, { id: `e-${i}`, reason: i % 2 === 0 ? `Zoë's "fix"\n\tline ${i}` : `plain ${i}` }));
    if (!result.ok) throw new Error('test event invalid');
    const record = toRecord(result.event, { id: `e-${i}`, received: '2026-11-27T12:00:00.000Z', index: i });
    const bytes = Uint8Array.from(recordBytes(record));
    return { index: i, id: record.id, leafHash: nodeHasher.hashLeaf(bytes).slice(), bytes, row: indexRowOf(record) };
  });
  return { entries, hashes: [], checkpoint: { size: first + n, created: 1, note: 'note' }, historic: false, parent: null };
}

describe('batchToWire and batchFromWire (a sealed batch, to commit)', () => {
  test.each([0, 1, 2, 65])('carry a batch of %i entries across a thread boundary unchanged', (n) => {
    const batch = sealedBatchOf(40, n);
    const { wire, transfer } = batchToWire(batch);
    // As postMessage does: the buffers move, the rest is cloned.
    const received = structuredClone(wire, { transfer });
    const back = batchFromWire(received);
    expect(back.entries.map((e) => [e.index, e.id, Buffer.from(e.bytes).toString(), Buffer.from(e.leafHash).toString('hex')])).toEqual(
      batch.entries.map((e) => [e.index, e.id, Buffer.from(e.bytes).toString(), Buffer.from(e.leafHash).toString('hex')]),
    );
    expect(back.entries.map((e) => e.row)).toEqual(batch.entries.map((e) => e.row));
    expect(back.checkpoint).toEqual(batch.checkpoint);
  });
});

describe('unsealedToWire and unsealedFromWire (a sequenced batch, to seal)', () => {
  test.each([1, 2, 65])('carry a batch of %i entries across a thread boundary unchanged', (n) => {
    const batch = batchOf(40, n);
    const { wire, transfer } = unsealedToWire(batch);
    // As postMessage does: the buffers move, the rest is cloned.
    const received = structuredClone(wire, { transfer });
    const back = unsealedFromWire(received);
    expect(back.entries.map((e) => [e.index, e.id, Buffer.from(e.bytes).toString()])).toEqual(
      batch.entries.map((e) => [e.index, e.id, Buffer.from(e.bytes).toString()]),
    );
    expect(back.entries.map((e) => e.row)).toEqual(batch.entries.map((e) => e.row));
    expect({ created: back.created, historic: back.historic, view: back.view }).toEqual({ created: 1, historic: false, view: 3 });
  });
});

describe('sealedToWire and sealedFromWire', () => {
  test.each([1, 3, 300])('carry the answer for %i entries back unchanged', (n) => {
    const leafHashes = Array.from({ length: n }, (_, i) => nodeHasher.hashLeaf(Uint8Array.of(i & 255, i >> 8)));
    const sealed: SealedBatch = { size: 7 + n, note: 'origin\n9\nroot\n\n— sig\n', root: nodeHasher.hashLeaf(Uint8Array.of(1)), leafHashes };
    const { wire, transfer } = sealedToWire(sealed);
    const back = sealedFromWire(structuredClone(wire, { transfer }));
    expect({ ...back, leafHashes: back.leafHashes.map((h) => Buffer.from(h).toString('hex')) }).toEqual({
      ...sealed,
      leafHashes: leafHashes.map((h) => Buffer.from(h).toString('hex')),
    });
  });
});
