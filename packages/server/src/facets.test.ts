import type { EventRecord } from '@stele/log';
import { expect, test } from 'vitest';
import { countFacets, isPrivileged, timelineOf } from './facets.js';

const at = (iso: string) => Date.parse(iso);
const rec = (time: string, source: string, actor: { id?: string; email?: string }, outcome = 'success', details?: Record<string, unknown>) =>
  ({ time, source, action: `${source}.act`, actor, outcome, ...(details && { details }) }) as unknown as EventRecord;

test('the timeline takes the smallest round bucket that fits, aligned to its size', () => {
  const hour = timelineOf(at('2025-06-02T12:00:10Z'), at('2025-06-02T13:00:00Z'), 60);
  expect(hour.bucketMs).toBe(60_000);
  expect(hour.from).toBe(at('2025-06-02T12:00:00Z'));
  expect(hour.to).toBe(at('2025-06-02T13:00:00Z'));
  expect(hour.counts).toHaveLength(60);
  const week = timelineOf(at('2025-06-01T00:00:00Z'), at('2025-06-08T00:00:00Z'), 60);
  expect(week.bucketMs).toBe(3 * 3600_000);
  expect(week.counts.length).toBeLessThanOrEqual(60);
  // Past the largest round size, whole days.
  const years = timelineOf(at('2020-01-01T00:00:00Z'), at('2025-01-01T00:00:00Z'), 60);
  expect(years.bucketMs % 86_400_000).toBe(0);
  expect(years.counts.length).toBeLessThanOrEqual(60);
  expect(timelineOf(5000, 5000, 60)).toEqual({ from: 5000, to: 6000, bucketMs: 1000, counts: [0] });
});

test('facets count every value, most frequent first, the top ones listed with the number of distinct values', () => {
  const records = [
    rec('2025-06-02T12:00:00Z', 'git', { id: 'alice', email: 'alice@example.com' }),
    rec('2025-06-02T12:00:01Z', 'git', { id: 'bob' }, 'failure'),
    rec('2025-06-02T12:00:02Z', 'emacs', { id: 'alice', email: 'alice@example.com' }, 'success', { privileged: 'sudo' }),
    rec('2025-06-02T12:00:03Z', 'kubernetes', { id: 'carol' }, 'success', { privileged: true }),
    rec('2025-06-02T12:00:59Z', 'git', { id: 'carol' }, 'success', { privileged: false }),
  ];
  const summary = countFacets(records, { top: 2, buckets: 60 });
  expect(summary.counted).toBe(5);
  expect(summary.facets.source).toEqual({ values: [{ value: 'git', count: 3 }, { value: 'emacs', count: 1 }], distinct: 3 });
  expect(summary.facets.actor.values).toEqual([{ value: 'alice@example.com', count: 2 }, { value: 'carol', count: 2 }]);
  expect(summary.facets.outcome.values).toEqual([{ value: 'success', count: 4 }, { value: 'failure', count: 1 }]);
  expect(summary.facets.privileged.values).toEqual([{ value: 'no', count: 3 }, { value: 'yes', count: 2 }]);
  expect(summary.oldest).toBe(at('2025-06-02T12:00:00Z'));
  expect(summary.newest).toBe(at('2025-06-02T12:00:59Z'));
  expect(summary.timeline!.bucketMs).toBe(1000);
  expect(summary.timeline!.counts.reduce((a, b) => a + b, 0)).toBe(5);
  expect(summary.timeline!.counts[59]).toBe(1);
  expect(isPrivileged(records[4]!)).toBe(false);
});

test('with a range the timeline spans it, even with no events', () => {
  const since = at('2025-06-02T10:00:00Z');
  const until = at('2025-06-02T12:00:00Z');
  const empty = countFacets([], { top: 10, buckets: 24, since, until });
  expect(empty.counted).toBe(0);
  expect(empty.timeline).toMatchObject({ from: since, to: until, bucketMs: 300_000 });
  expect(empty.timeline!.counts).toEqual(new Array(24).fill(0));
  expect(countFacets([], { top: 10, buckets: 24 }).timeline).toBeUndefined();
});
