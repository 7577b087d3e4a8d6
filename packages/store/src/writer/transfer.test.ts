import { recordBytes, toRecord, validateEvent } from '@stele/log';
import { describe, expect, test } from 'vitest';
import type { Batch } from '../driver.js';
import { nodeHasher } from '../hash.js';
import { indexRowOf } from '../indexRow.js';
import { event } from '../testEvent.js';
import { fromWire, toWire } from './transfer.js';

/** A batch of `n` entries from `first`, some with text outside ASCII and escapes. */
function batchOf(first: number, n: number): Batch {
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

describe('toWire and fromWire', () => {
  test.each([0, 1, 2, 65])('carry a batch of %i entries across a thread boundary unchanged', (n) => {
    const batch = batchOf(40, n);
    const { wire, transfer } = toWire(batch);
    // As postMessage does: the buffers move, the rest is cloned.
    const received = structuredClone(wire, { transfer });
    const back = fromWire(received);
    expect(back.entries.map((e) => [e.index, e.id, Buffer.from(e.bytes).toString(), Buffer.from(e.leafHash).toString('hex')])).toEqual(
      batch.entries.map((e) => [e.index, e.id, Buffer.from(e.bytes).toString(), Buffer.from(e.leafHash).toString('hex')]),
    );
    expect(back.entries.map((e) => e.row)).toEqual(batch.entries.map((e) => e.row));
    expect(back.checkpoint).toEqual(batch.checkpoint);
  });
});
