import { describe, expect, it } from 'vitest';
import type { EventRecord } from '@stele/log';
import { countFacets } from './facets.js';

const rec = (source: string, actor: string, outcome: string, privileged?: boolean) =>
  ({ source, action: 'file.save', actor: { id: actor }, outcome, ...(privileged !== undefined && { details: { privileged } }) }) as unknown as EventRecord;

describe('countFacets', () => {
  it('counts each facet, most frequent first', () => {
    const facets = countFacets([rec('emacs', 'alice', 'success'), rec('git', 'bob', 'failure', true), rec('emacs', 'bob', 'success', false)]);
    expect(facets.map((f) => f.name)).toEqual(['source', 'action', 'actor', 'outcome', 'privileged']);
    expect(facets[0]).toEqual({ name: 'source', key: 'source', counts: [['emacs', 2], ['git', 1]] });
    expect(facets[2]!.counts).toEqual([['bob', 2], ['alice', 1]]);
    expect(facets[4]).toEqual({ name: 'privileged', counts: [['no', 2], ['yes', 1]] });
  });
});
