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

/** Reads one store query page by page, newest first, keeping the records `keep` accepts. */
function pager(log: Log, filter: QueryFilter, keep: (r: EventRecord) => boolean) {
  let buffer: LogEntry[] = [];
  let before = filter.before;
  let done = false;
  return {
    async peek(): Promise<LogEntry | undefined> {
      while (buffer.length === 0 && !done) {
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

/**
 * A store query with person expansion and the ticket filter: up to
 * `filter.limit` entries, newest first, each at most once.
 */
export async function searchLog(log: Log, filter: QueryFilter, options: SearchOptions): Promise<SearchResult> {
  const person = filter.actor !== undefined && options.people ? await resolvePerson(log, options.people, filter.actor) : undefined;
  const ticket = options.ticket;
  if (!person && ticket === undefined) return { entries: await log.query(filter) };
  // The ticket is also a free-text phrase, so the store's full-text index narrows the candidates.
  const text = ticket === undefined ? filter.text : [filter.text, ticket].filter((t) => t !== undefined && t !== '').join(' ');
  const keep = ticket === undefined ? () => true : (r: EventRecord) => namesTicket(r, ticket, options.tickets);
  const actors = person ? person.identifiers : [filter.actor];
  const streams = actors.map((actor) => pager(log, { ...filter, actor, text }, keep));
  const entries: LogEntry[] = [];
  while (entries.length < filter.limit) {
    let best: { index: number; at: number } | undefined;
    for (let i = 0; i < streams.length; i++) {
      const head = await streams[i]!.peek();
      if (head && (!best || head.index > best.index)) best = { index: head.index, at: i };
    }
    if (!best) break;
    const entry = (await streams[best.at]!.peek())!;
    // The same entry may come from two identifiers (an actor with both id and e-mail listed).
    for (const stream of streams) if ((await stream.peek())?.index === best.index) stream.shift();
    entries.push(entry);
  }
  return { entries, ...(person && { person }) };
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
