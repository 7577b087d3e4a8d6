import { describe, expect, it } from 'vitest';
import type { EventRecord } from '@stele/log';
import { addRecord, type FacetSummary } from './facets.js';

const rec = (time: string, source: string, actor: string, privileged?: unknown) =>
  ({ time, source, action: 'file.save', actor: { id: actor }, outcome: 'success', ...(privileged !== undefined && { details: { privileged } }) }) as unknown as EventRecord;

const empty = (): FacetSummary => ({
  counted: 2,
  complete: true,
  scan: 10_000,
  facets: {
    source: { values: [{ value: 'emacs', count: 1 }, { value: 'git', count: 1 }], distinct: 2 },
    action: { values: [{ value: 'file.save', count: 2 }], distinct: 1 },
    actor: { values: [{ value: 'alice', count: 2 }], distinct: 1 },
    outcome: { values: [{ value: 'success', count: 2 }], distinct: 1 },
    privileged: { values: [{ value: 'no', count: 2 }], distinct: 1 },
  },
  oldest: '2026-01-01T00:00:00.000Z',
  newest: '2026-01-01T00:00:30.000Z',
  timeline: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T00:01:00.000Z', bucketSeconds: 30, counts: [1, 1] },
});

describe('addRecord', () => {
  it('counts a live arrival in each facet, most frequent first, new values joining', () => {
    const summary = empty();
    addRecord(summary, rec('2026-01-01T00:00:40Z', 'git', 'bob', 'sudo'));
    expect(summary.counted).toBe(3);
    expect(summary.facets.source.values).toEqual([{ value: 'git', count: 2 }, { value: 'emacs', count: 1 }]);
    expect(summary.facets.actor).toEqual({ values: [{ value: 'alice', count: 2 }, { value: 'bob', count: 1 }], distinct: 2 });
    expect(summary.facets.privileged.values).toEqual([{ value: 'no', count: 2 }, { value: 'yes', count: 1 }]);
    expect(summary.timeline!.counts).toEqual([1, 2]);
    expect(summary.newest).toBe('2026-01-01T00:00:40Z');
  });

  it('grows the timeline to a later arrival', () => {
    const summary = empty();
    addRecord(summary, rec('2026-01-01T00:02:05Z', 'git', 'alice'));
    expect(summary.timeline!.counts).toEqual([1, 1, 0, 0, 1]);
    expect(summary.timeline!.to).toBe('2026-01-01T00:02:30.000Z');
  });
});
