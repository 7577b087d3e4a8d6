import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { IndexRow } from '../driver.js';
import { tokenize } from '../text.js';
import { batchIndexOf, decodeOffsets, encodeOffsets, postingKeys, splitKey } from './batchIndex.js';

/** The batch index as first written: one `field\0value` key per posting of each row. */
function reference(first: number, rows: readonly IndexRow[]) {
  let minTime = Infinity;
  let maxTime = -Infinity;
  const postings = new Map<string, number[]>();
  const words = new Set<string>();
  rows.forEach((row, offset) => {
    if (row.time < minTime) minTime = row.time;
    if (row.time > maxTime) maxTime = row.time;
    for (const key of postingKeys(row)) {
      const list = postings.get(key);
      if (list) list.push(offset);
      else postings.set(key, [offset]);
    }
    for (const word of tokenize(row.text)) words.add(word);
  });
  return { first, last: first + rows.length - 1, minTime, maxTime, postings, words: [...words].sort().join(' ') };
}

const sorted = (m: Map<string, number[]>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const value = fc.oneof(fc.constantFrom('a', 'b', 'alice', 'x@y'), fc.string({ maxLength: 6 }));
const row: fc.Arbitrary<IndexRow> = fc.record({
  time: fc.integer({ min: 0, max: 1e6 }),
  received: fc.integer({ min: 0, max: 1e6 }),
  source: value,
  action: value,
  actorId: fc.option(value),
  actorEmail: fc.option(value),
  targetType: fc.option(value),
  targetId: fc.option(value),
  targetName: fc.option(value),
  outcome: fc.constantFrom('success', 'failure', 'unknown'),
  text: fc.string({ maxLength: 40 }),
});

describe('batchIndexOf', () => {
  test('gives the same index as one key per posting per row', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.array(row, { maxLength: 30 }), (first, rows) => {
        const got = batchIndexOf(first, rows);
        const want = reference(first, rows);
        expect({ ...got, postings: sorted(got.postings) }).toEqual({ ...want, postings: sorted(want.postings) });
      }),
    );
  });

  test('keeps values that are not strings (hostile records) as their string form', () => {
    const odd = { time: 1, received: 1, source: 's', action: 5, actorId: 5, actorEmail: '5', targetType: null, targetId: true, targetName: 'true', outcome: 'success', text: '' } as unknown as IndexRow;
    const got = batchIndexOf(0, [odd, odd]);
    const want = reference(0, [odd, odd]);
    expect(sorted(got.postings)).toEqual(sorted(want.postings));
    expect(got.postings.get('actor\u00005')).toEqual([0, 0, 1, 1]);
  });
});

describe('offsets and keys', () => {
  test('round-trip', () => {
    expect(decodeOffsets(encodeOffsets([0, 1, 70_000, 2 ** 32 - 1]))).toEqual([0, 1, 70_000, 2 ** 32 - 1]);
    expect(splitKey('actor\u0000a\u0000b')).toEqual(['actor', 'a\u0000b']);
  });
});
