import { describe, expect, it } from 'vitest';
import { bucketize, sizeLabel } from './timeline.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('bucketize', () => {
  it('gives no buckets for no times', () => {
    expect(bucketize([])).toEqual([]);
  });

  it('puts a single time in one one-second bucket', () => {
    expect(bucketize([T0 + 1500])).toEqual([{ start: T0 + 1000, size: 1000, count: 1 }]);
  });

  it('sizes buckets to the range and keeps the empty ones between', () => {
    // 30 seconds at one per second fit in 60 one-second buckets.
    const times = Array.from({ length: 30 }, (_, i) => T0 + i * 1000);
    const b = bucketize(times);
    expect(b).toHaveLength(30);
    expect(b.every((x) => x.size === 1000 && x.count === 1)).toBe(true);
    // Two hours: 60 buckets are not enough at a minute, so two minutes each.
    const two = bucketize([T0, T0 + 60_000, T0 + 2 * 3600_000 - 1]);
    expect(two[0]).toEqual({ start: T0, size: 120_000, count: 2 });
    expect(two).toHaveLength(60);
    expect(two.at(-1)!.count).toBe(1);
    expect(two.reduce((n, x) => n + x.count, 0)).toBe(3);
  });

  it('aligns buckets to their size and respects the maximum', () => {
    const b = bucketize([T0 + 7 * 60_000, T0 + 3 * 3600_000 + 5], 10);
    expect(b.length).toBeLessThanOrEqual(10);
    expect(b[0]!.start % b[0]!.size).toBe(0);
    expect(b[0]!.size).toBe(30 * 60_000);
  });

  it('ignores times that are not numbers', () => {
    expect(bucketize([NaN, T0])).toEqual([{ start: T0, size: 1000, count: 1 }]);
  });

  it('covers long ranges with whole days', () => {
    const b = bucketize([T0, T0 + 400 * 86_400_000]);
    expect(b.length).toBeLessThanOrEqual(60);
    expect(b[0]!.size % 86_400_000).toBe(0);
    expect(b.reduce((n, x) => n + x.count, 0)).toBe(2);
  });
});

describe('sizeLabel', () => {
  it('names sizes briefly', () => {
    expect([1000, 900_000, 7_200_000, 604_800_000].map(sizeLabel)).toEqual(['1s', '15m', '2h', '7d']);
  });
});
