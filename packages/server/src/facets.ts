import { parseTime, type EventRecord } from '@stele/log';

/**
 * Facets and the timeline of a search (`GET /v1/events/facets`): counts per
 * source, action, actor, outcome and privileged, and a histogram over time,
 * of the events the search matches. Counting is plain arithmetic over
 * records; reading them (newest first, up to a cap) is the route's business.
 */

/** The facets, in the order the API lists them. */
export const FACET_NAMES = ['source', 'action', 'actor', 'outcome', 'privileged'] as const;

/** One facet's name. */
export type FacetName = (typeof FACET_NAMES)[number];

/** True when a source marked the event privileged: `details.privileged` is true, or names the privilege (`"sudo"`). */
export const isPrivileged = (record: EventRecord): boolean => {
  const value = record.details?.privileged;
  return value === true || (typeof value === 'string' && value !== '');
};

/** The value each facet counts (undefined: the record is not counted in it). */
const VALUE: Record<FacetName, (record: EventRecord) => string | undefined> = {
  source: (e) => e.source,
  action: (e) => e.action,
  // What the `actor` filter matches (id or e-mail), the e-mail first: the name alone could not be searched.
  actor: (e) => e.actor.email ?? e.actor.id,
  outcome: (e) => e.outcome,
  privileged: (e) => (isPrivileged(e) ? 'yes' : 'no'),
};

/** The round bucket sizes of the timeline, in milliseconds, smallest first: a second up to a week. */
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800].map((s) => s * 1000);
const DAY = 86_400_000;

/** A histogram over time: `counts[i]` events at `from + i * bucketMs` (ms since the epoch) and before the next bucket. */
export interface Timeline {
  from: number;
  to: number;
  bucketMs: number;
  counts: number[];
}

/**
 * The buckets of `[from, to)`: the smallest round size that cuts the range in
 * at most `max` buckets (past 60 weeks, whole days), aligned to a multiple of
 * the size. `from` and `to` are widened to the buckets' edges.
 */
export function timelineOf(from: number, to: number, max: number): Timeline {
  const end = Math.max(to, from + 1);
  const fits = (s: number) => Math.floor((end - 1) / s) - Math.floor(from / s) + 1 <= max;
  const bucketMs = STEPS.find(fits) ?? Math.ceil((end - from) / max / DAY + 1) * DAY;
  const first = Math.floor(from / bucketMs);
  const length = Math.floor((end - 1) / bucketMs) - first + 1;
  return { from: first * bucketMs, to: (first + length) * bucketMs, bucketMs, counts: new Array<number>(length).fill(0) };
}

/** Counts of one facet: the `top` most frequent values (ties by value) and how many values there were. */
export interface FacetCounts {
  values: { value: string; count: number }[];
  distinct: number;
}

/** What {@link countFacets} found. */
export interface FacetSummary {
  /** Events counted. */
  counted: number;
  facets: Record<FacetName, FacetCounts>;
  /** The time of the oldest and newest event counted (ms since the epoch); undefined when none was. */
  oldest?: number;
  newest?: number;
  timeline?: Timeline;
}

/** Options of {@link countFacets}. */
export interface CountOptions {
  /** Values listed per facet. */
  top: number;
  /** The timeline's range when the search has one (`since`, `until`): else the counted events' own. */
  since?: number;
  until?: number;
  /** The most buckets the timeline may have. */
  buckets: number;
}

/** A running count: {@link FacetCounter.add} each record as it is read, then {@link FacetCounter.summary}. */
export interface FacetCounter {
  add(record: EventRecord): void;
  summary(): FacetSummary;
}

/** Counts facets and the timeline of the records added; holds only the counts and one number per record. */
export function facetCounter(options: CountOptions): FacetCounter {
  const maps = FACET_NAMES.map(() => new Map<string, number>());
  const times: number[] = [];
  let oldest = Infinity;
  let newest = -Infinity;
  return {
    add(record) {
      for (let i = 0; i < FACET_NAMES.length; i++) {
        const value = VALUE[FACET_NAMES[i]!](record);
        if (value !== undefined) maps[i]!.set(value, (maps[i]!.get(value) ?? 0) + 1);
      }
      const time = parseTime(record.time);
      times.push(time);
      if (time < oldest) oldest = time;
      if (time > newest) newest = time;
    },
    summary() {
      const facets = Object.fromEntries(
        FACET_NAMES.map((name, i) => {
          const sorted = [...maps[i]!].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
          return [name, { values: sorted.slice(0, options.top).map(([value, count]) => ({ value, count })), distinct: sorted.length }];
        }),
      ) as Record<FacetName, FacetCounts>;
      if (times.length === 0 && options.since === undefined) return { counted: 0, facets };
      const timeline = timelineOf(options.since ?? oldest, options.until ?? newest + 1, options.buckets);
      for (const t of times) {
        const at = Math.floor((t - timeline.from) / timeline.bucketMs);
        if (at >= 0 && at < timeline.counts.length) timeline.counts[at]!++;
      }
      return { counted: times.length, facets, ...(times.length > 0 && { oldest, newest }), timeline };
    },
  };
}

/** Counts facets and the timeline of `records` at once. */
export function countFacets(records: Iterable<EventRecord>, options: CountOptions): FacetSummary {
  const counter = facetCounter(options);
  for (const record of records) counter.add(record);
  return counter.summary();
}
