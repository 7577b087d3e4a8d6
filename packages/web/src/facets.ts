/**
 * Facets with counts over the results on screen (the pages loaded and the
 * live tail's arrivals): source, action, actor, outcome and privileged. A
 * click narrows the query to the value; `privileged` only shows its counts,
 * since the API has no filter for it.
 */
import type { EventRecord } from '@stele/log';
import { h } from './dom.js';
import { refineQuery, type FilterKey } from './query.js';

/** The facets, in the order shown; `key` is the query language's, when there is one. */
const FACETS: { name: string; key?: FilterKey; value: (e: EventRecord) => string | undefined }[] = [
  { name: 'source', key: 'source', value: (e) => e.source },
  { name: 'action', key: 'action', value: (e) => e.action },
  { name: 'actor', key: 'actor', value: (e) => e.actor.email ?? e.actor.id ?? e.actor.name },
  { name: 'outcome', key: 'outcome', value: (e) => e.outcome },
  { name: 'privileged', value: (e) => (e.details?.privileged === true ? 'yes' : 'no') },
];

/** How many values of each facet are shown. */
const TOP = 8;

/** Counts per facet value, most frequent first (ties by value). */
export function countFacets(records: readonly EventRecord[]): { name: string; key?: FilterKey; counts: [string, number][] }[] {
  return FACETS.map(({ name, key, value }) => {
    const counts = new Map<string, number>();
    for (const e of records) {
      const v = value(e);
      if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    return { name, ...(key && { key }), counts: [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)) };
  });
}

/** Renders the facets of `records` into `root`; a click narrows `text` to the value. */
export function renderFacets(root: HTMLElement, records: readonly EventRecord[], text: string): void {
  root.replaceChildren(
    ...countFacets(records).map(({ name, key, counts }) => {
      const items = counts.slice(0, TOP).map(([value, count]) => {
        const refined = key === undefined ? undefined : refineQuery(text, key, value);
        const label = [h('span.value', {}, value), ' ', h('span.count', {}, String(count))];
        return h('li', {}, refined === undefined ? h('span', { title: key === undefined ? 'counted over the results shown; not a search filter' : undefined }, ...label) : h('a', { href: `#/?q=${encodeURIComponent(refined)}`, 'data-facet': name, 'data-value': value }, ...label));
      });
      const more = counts.length > TOP ? h('li.muted', {}, `+${counts.length - TOP} more`) : null;
      return h('section.facet', { 'data-facet': name }, h('h2', {}, name), h('ul', {}, ...items, more));
    }),
  );
}
