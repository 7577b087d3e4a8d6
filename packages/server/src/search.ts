import { setImmediate as tick } from 'node:timers/promises';
import type { EventRecord } from '@stele/log';
import { recordMatcher, type Log, type LogEntry, type QueryFilter } from '@stele/store';
import { resolvePerson, type IdentityMap, type Person } from './identityMap.js';
import { ticketsIn } from './sources/normalize.js';

/**
 * Search above the store's index: a person's every identifier (identityMap.ts)
 * and the events that name a ticket. The store answers each actor with its
 * index; the answers are merged newest first, so cursors and limits keep
 * their meaning.
 */

/** What {@link searchLog} adds to a store query. */
export interface SearchOptions {
  /** Expand `actor` to every identifier of the person it names. */
  people?: IdentityMap;
  /** Only events that name this ticket (in `details.tickets`, the reason or the target). */
  ticket?: string;
  /** The ticket patterns (normalize.ts ticketMatchers). */
  tickets: readonly RegExp[];
}

/** A page of results, and the person the actor filter was expanded to. */
export interface SearchResult {
  entries: LogEntry[];
  person?: Person;
}

/** True when a record names the ticket: in `details.tickets`, or found by the patterns in its reason or target. */
export function namesTicket(record: EventRecord, ticket: string, matchers: readonly RegExp[]): boolean {
  const wanted = ticket.toUpperCase();
  const listed = record.details?.tickets;
  if (Array.isArray(listed) && listed.some((t) => typeof t === 'string' && t.toUpperCase() === wanted)) return true;
  if (record.target?.type === 'ticket' && record.target.id?.toUpperCase() === wanted) return true;
  return ticketsIn([record.reason, record.target?.id, record.target?.name], matchers).includes(wanted);
}

/**
 * Reads one store query page by page, newest first, keeping the records
 * `keep` accepts. With `pause`, it yields to the event loop before every page
 * but the first, so a long scan holds up appends and other requests for no
 * more than one page's work (the SQLite driver reads synchronously).
 */
function pager(log: Log, filter: QueryFilter, keep: (r: EventRecord) => boolean, pause = false) {
  let buffer: LogEntry[] = [];
  let before = filter.before;
  let done = false;
  let pages = 0;
  return {
    async peek(): Promise<LogEntry | undefined> {
      while (buffer.length === 0 && !done) {
        if (pause && pages++ > 0) await tick();
        const page = await log.query({ ...filter, before, limit: filter.limit });
        if (page.length < filter.limit) done = true;
        if (page.length > 0) before = page[page.length - 1]!.index;
        buffer = page.filter((e) => keep(e.record));
      }
      return buffer[0];
    },
    shift: () => void buffer.shift(),
  };
}

/** Merges newest-first streams into one, each entry once (the same entry may come from two identifiers). */
async function* merge(streams: ReturnType<typeof pager>[]): AsyncGenerator<LogEntry> {
  for (;;) {
    let best: { index: number; at: number } | undefined;
    for (let i = 0; i < streams.length; i++) {
      const head = await streams[i]!.peek();
      if (head && (!best || head.index > best.index)) best = { index: head.index, at: i };
    }
    if (!best) return;
    const entry = (await streams[best.at]!.peek())!;
    for (const stream of streams) if ((await stream.peek())?.index === best.index) stream.shift();
    yield entry;
  }
}

/** The streams of a search: one per identifier of the person, each keeping what the ticket filter accepts. */
function streamsOf(log: Log, filter: QueryFilter, options: SearchOptions, person: Person | undefined, pause = false) {
  const ticket = options.ticket;
  // The ticket is also a free-text phrase, so the store's full-text index narrows the candidates.
  const text = ticket === undefined ? filter.text : [filter.text, ticket].filter((t) => t !== undefined && t !== '').join(' ');
  const keep = ticket === undefined ? () => true : (r: EventRecord) => namesTicket(r, ticket, options.tickets);
  const actors = person ? person.identifiers : [filter.actor];
  return actors.map((actor) => pager(log, { ...filter, actor, text }, keep, pause));
}

/**
 * A store query with person expansion and the ticket filter: up to
 * `filter.limit` entries, newest first, each at most once.
 */
export async function searchLog(log: Log, filter: QueryFilter, options: SearchOptions): Promise<SearchResult> {
  const person = filter.actor !== undefined && options.people ? await resolvePerson(log, options.people, filter.actor) : undefined;
  if (!person && options.ticket === undefined) return { entries: await log.query(filter) };
  const entries: LogEntry[] = [];
  if (filter.limit <= 0) return { entries, ...(person && { person }) };
  for await (const entry of merge(streamsOf(log, filter, options, person))) {
    entries.push(entry);
    if (entries.length >= filter.limit) break;
  }
  return { entries, ...(person && { person }) };
}

/**
 * Every entry a search matches, newest first, without end: the store is read
 * `filter.limit` candidates at a time, and the caller stops when it has seen
 * enough. Between pages it yields to the event loop, so a long scan never
 * holds up appends and other requests for more than one page's work.
 */
export async function scanLog(log: Log, filter: QueryFilter, options: SearchOptions): Promise<{ person?: Person; entries: AsyncIterable<LogEntry> }> {
  const person = filter.actor !== undefined && options.people ? await resolvePerson(log, options.people, filter.actor) : undefined;
  return { ...(person && { person }), entries: merge(streamsOf(log, filter, options, person, true)) };
}

/**
 * The exact meaning of a search on one record, for the live stream: the
 * store's matcher, with the actor widened to the person's identifiers and the
 * ticket filter added.
 */
export function searchMatcher(filter: QueryFilter, options: SearchOptions & { person?: Person }): (record: EventRecord) => boolean {
  const base = recordMatcher({ ...filter, actor: options.person ? undefined : filter.actor });
  const ids = options.person ? new Set(options.person.identifiers) : undefined;
  const { ticket } = options;
  return (record) =>
    base(record) &&
    (!ids || (record.actor.id !== undefined && ids.has(record.actor.id)) || (record.actor.email !== undefined && ids.has(record.actor.email))) &&
    (ticket === undefined || namesTicket(record, ticket, options.tickets));
}
