import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import type { AppContext } from '../context.js';
import { facetCounter, type FacetName, type Timeline } from '../facets.js';
import { createIdentityMap } from '../identityMap.js';
import { scanLog, type SearchOptions } from '../search.js';
import { ticketMatchers } from '../sources/normalize.js';
import { SEARCH_PARAMETERS, filterOf, searchQuery } from './events.js';

type Query = Record<string, string | undefined>;

/** Events counted per request unless `scan` says otherwise, and the most it may say. */
export const DEFAULT_SCAN = 10_000;
export const MAX_SCAN = 100_000;
/** Candidates read from the store per page: the scan yields to other requests between pages. */
const PAGE = 1000;
/**
 * Wall time a count may take: a second per 10,000 of `scan` (at least a
 * second), at most half the request timeout. A search whose matches are
 * sparse among many candidates (a common word) reads far more entries than
 * it counts; past the budget the answer is partial, and says why.
 */
const budgetOf = (scan: number, requestTimeoutMs: number) => Math.min(Math.max(1000, scan / 10), requestTimeoutMs / 2);

/** `GET /v1/events/facets`' answer (docs/API.md). */
export interface FacetsAnswer {
  /** Events counted: the newest matches, up to `scan`. */
  counted: number;
  /** False when the count is not known to be whole: the counts are of the newest `counted` matches. */
  complete: boolean;
  /** Why an incomplete count stopped: `scan` (more match), or its time budget (more may match). */
  stoppedBy?: 'scan' | 'time';
  scan: number;
  facets: Record<FacetName, { values: { value: string; count: number }[]; distinct: number }>;
  oldest?: string;
  newest?: string;
  timeline?: { from: string; to: string; bucketSeconds: number; counts: number[] };
  person?: { email: string; name?: string; identifiers: string[] };
}

/** An integer query parameter within bounds, or its default. */
function integer(query: Query, name: string, fallback: number, max: number): number {
  const text = query[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!/^\d{1,7}$/.test(text) || value < 1 || value > max) throw new ApiError(400, 'ERR_BAD_REQUEST', `${name} must be an integer between 1 and ${max}`);
  return value;
}

const iso = (ms: number) => new Date(ms).toISOString();
const timelineJson = (t: Timeline) => ({ from: iso(t.from), to: iso(t.to), bucketSeconds: t.bucketMs / 1000, counts: t.counts });

/**
 * Facets and the timeline of a whole search (scope read): the filters of
 * `GET /v1/events`, counted over the matching events newest first, up to
 * `scan` of them. The answer says whether that was all of them.
 */
export function facetRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { log } = ctx.store;
  const people = createIdentityMap(ctx.config.identities);
  const tickets = ticketMatchers(ctx.config.sources.tickets);

  app.get('/v1/events/facets', { onRequest: ctx.guard('read') }, async (request, reply): Promise<FacetsAnswer> => {
    const query = searchQuery(request.query, SEARCH_PARAMETERS.facets);
    const now = Date.now();
    const filter = { ...filterOf({ ...query, limit: undefined, cursor: undefined }, now), limit: PAGE };
    const scan = integer(query, 'scan', DEFAULT_SCAN, MAX_SCAN);
    const top = integer(query, 'top', 10, 100);
    const buckets = integer(query, 'buckets', 60, 500);
    const ticket = query.ticket === undefined || query.ticket === '' ? undefined : query.ticket;
    if (ticket !== undefined && (ticket.length > 128 || /\s/.test(ticket))) throw new ApiError(400, 'ERR_BAD_REQUEST', 'ticket is one reference, such as INC-42');
    const options: SearchOptions = { people, tickets, ...(ticket !== undefined && { ticket }) };
    // The timeline spans the search's range when it has one (`since` alone runs to now), else the events'.
    const until = filter.until ?? (filter.since !== undefined ? now : undefined);
    const counter = facetCounter({ top, buckets, ...(filter.since !== undefined && { since: filter.since }), ...(until !== undefined && { until }) });
    // A client that went away stops the scan at the next page.
    let gone = false;
    reply.raw.once('close', () => (gone = !reply.raw.writableEnded));
    const { person, entries } = await scanLog(log, filter, options);
    const deadline = performance.now() + budgetOf(scan, ctx.config.limits.requestTimeoutMs);
    let counted = 0;
    let stoppedBy: FacetsAnswer['stoppedBy'];
    for await (const entry of entries) {
      if (counted === scan) {
        stoppedBy = 'scan'; // and this entry is one more
        break;
      }
      counter.add(entry.record);
      counted++;
      // Past the budget, stop before asking for the next match: whether there is one is not known.
      if (performance.now() > deadline) stoppedBy = 'time';
      if (stoppedBy || gone) break;
    }
    const summary = counter.summary();
    return {
      counted,
      complete: stoppedBy === undefined,
      ...(stoppedBy && { stoppedBy }),
      scan,
      facets: summary.facets,
      ...(summary.oldest !== undefined && { oldest: iso(summary.oldest), newest: iso(summary.newest!) }),
      ...(summary.timeline && { timeline: timelineJson(summary.timeline) }),
      ...(person && { person }),
    };
  });
}
