/**
 * Facets with counts over the whole search (`GET /v1/events/facets`):
 * source, action, actor, outcome and privileged, counted by the collector
 * over every matching event, or the newest `scan` of them when there are
 * more (then the panel says the counts are partial). The live tail's
 * arrivals are added as they come. A click narrows the query to the value;
 * `privileged` only shows its counts, since the API has no filter for it.
 */
import type { EventRecord } from '@stele/log';
import { h } from './dom.js';
import { refineQuery, type FilterKey } from './query.js';

/** One facet's counts as the API answers: the top values and how many values there were. */
export interface FacetCounts {
  values: { value: string; count: number }[];
  distinct: number;
}

/** `GET /v1/events/facets`' answer (docs/API.md). */
export interface FacetSummary {
  counted: number;
  complete: boolean;
  /** Why an incomplete count stopped: it reached `scan`, or the collector's time budget. */
  stoppedBy?: 'scan' | 'time';
  scan: number;
  facets: Record<FacetName, FacetCounts>;
  oldest?: string;
  newest?: string;
  timeline?: { from: string; to: string; bucketSeconds: number; counts: number[] };
}

/** The facets, in the order shown; `key` is the query language's, when there is one. */
const FACETS = [
  { name: 'source', key: 'source', value: (e: EventRecord) => e.source },
  { name: 'action', key: 'action', value: (e: EventRecord) => e.action },
  { name: 'actor', key: 'actor', value: (e: EventRecord) => e.actor.email ?? e.actor.id },
  { name: 'outcome', key: 'outcome', value: (e: EventRecord) => e.outcome },
  { name: 'privileged', key: undefined, value: (e: EventRecord) => (e.details?.privileged === true || (typeof e.details?.privileged === 'string' && e.details.privileged !== '') ? 'yes' : 'no') },
] as const satisfies readonly { name: string; key: FilterKey | undefined; value: (e: EventRecord) => string | undefined }[];

/** A facet's name. */
export type FacetName = (typeof FACETS)[number]['name'];

/** How many values of each facet are shown. */
export const TOP = 8;

/**
 * Adds a live arrival to the counts: its value's count goes up (a value the
 * summary did not list joins it), and so does its timeline bucket, the
 * timeline growing to the record's time if it must.
 */
export function addRecord(summary: FacetSummary, record: EventRecord): void {
  summary.counted++;
  for (const { name, value } of FACETS) {
    const v = value(record);
    if (v === undefined) continue;
    const facet = summary.facets[name];
    const found = facet.values.find((x) => x.value === v);
    if (found) found.count++;
    else {
      facet.values.push({ value: v, count: 1 });
      facet.distinct++;
    }
    facet.values.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  }
  const t = Date.parse(record.time);
  if (!summary.newest || t > Date.parse(summary.newest)) summary.newest = record.time;
  summary.oldest ??= record.time;
  const line = summary.timeline;
  if (!line || !Number.isFinite(t)) return;
  const size = line.bucketSeconds * 1000;
  const at = Math.floor((t - Date.parse(line.from)) / size);
  if (at < 0 || at >= line.counts.length + 500) return;
  while (line.counts.length <= at) line.counts.push(0);
  line.to = new Date(Date.parse(line.from) + line.counts.length * size).toISOString();
  line.counts[at]!++;
}

/** What the counts cover, said once above the facets. */
function scope(summary: FacetSummary, more: () => void): HTMLElement {
  const n = summary.counted.toLocaleString('en');
  if (summary.complete) return h('p.facets-scope.muted', {}, `Counted over all ${n} matching event${summary.counted === 1 ? '' : 's'}.`);
  const button = summary.scan < 100_000 ? h('button.count-more', { type: 'button' }, 'Count up to 100,000') : null;
  button?.addEventListener('click', more);
  return h(
    'p.facets-scope.partial',
    { title: 'The collector counted the newest matches only; older ones are not in these numbers' },
    `Partial: counted over the newest ${n} matching events${summary.stoppedBy === 'time' ? ' the collector could read in the time allowed' : ''}${summary.oldest ? ` (back to ${summary.oldest.replace('T', ' ').replace(/\.\d+Z$/, 'Z')})` : ''}; there ${summary.stoppedBy === 'time' ? 'may be' : 'are'} more. `,
    button,
  );
}

/** Renders the facets of `summary` into `root`; a click narrows `text` to the value, `more` asks for a larger count. */
export function renderFacets(root: HTMLElement, summary: FacetSummary, text: string, more: () => void): void {
  root.dataset.complete = String(summary.complete);
  root.replaceChildren(
    scope(summary, more),
    ...FACETS.map(({ name, key }) => {
      const facet = summary.facets[name];
      const items = facet.values.slice(0, TOP).map(({ value, count }) => {
        const refined = key === undefined ? undefined : refineQuery(text, key, value);
        const label = [h('span.value', {}, value), ' ', h('span.count', {}, count.toLocaleString('en'))];
        return h(
          'li',
          {},
          refined === undefined
            ? h('span', { title: key === undefined ? 'a count, not a search filter' : undefined, 'data-value': value }, ...label)
            : h('a', { href: `#/?q=${encodeURIComponent(refined)}`, 'data-facet': name, 'data-value': value }, ...label),
        );
      });
      const hidden = Math.max(facet.distinct, facet.values.length) - items.length;
      return h('section.facet', { 'data-facet': name }, h('h2', {}, name), h('ul', {}, ...items, hidden > 0 ? h('li.muted', {}, `+${hidden} more`) : null));
    }),
  );
}
