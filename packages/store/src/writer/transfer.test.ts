import { describe, expect, test } from 'vitest';
import { nodeHasher } from '../hash.js';
import type { Batch } from '../driver.js';
import type { SealedBatch, UnsealedBatch } from '../seal.js';
import { testEntry } from '../testEvent.js';
import { batchFromWire, batchToWire, sealedFromWire, sealedToWire, unsealedFromWire, unsealedToWire } from './transfer.js';

/** Entries [first, first + n) of the test log, some with text outside ASCII and escapes. */
const entriesOf = (first: number, n: number) =>
  Array.from({ length: n }, (_, k) => testEntry(first + k, { reason: (first + k) % 2 === 0 ? `Zoë's "fix"\n\tline ${first + k}` : `plain ${first + k}` }));

function batchOf(first: number, n: number): UnsealedBatch {
  return { entries: entriesOf(first, n), created: 1, historic: false, view: 3 };
}

function sealedBatchOf(first: number, n: number): Batch {
  const entries = entriesOf(first, n).map((e) => ({ ...e, leafHash: nodeHasher.hashLeaf(e.bytes).slice() }));
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
