import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EVIDENCE_FORMAT, EVIDENCE_README, LogError, toBase64, toOcsf, verifyEvidence, type EventRecord, type EvidenceBundle } from '@stele/log';
import { filterProblem, parseWhen, type CommitEvent, type LogEntry, type QueryFilter } from '@stele/store';
import { bindEvents, submitterFor } from '../auth/bind.js';
import { ApiError } from '../errors.js';
import type { AppContext } from '../context.js';
import { createIdentityMap, createLinkRecorder, resolvePerson } from '../identityMap.js';
import { searchLog, searchMatcher, type SearchOptions } from '../search.js';
import { ticketMatchers } from '../sources/normalize.js';

type Query = Record<string, string | undefined>;

const MAX_LIMIT = 1000;

/** The filters of every search route (docs/API.md). */
const FILTERS = ['actor', 'action', 'source', 'target', 'outcome', 'since', 'until', 'q', 'ticket'];

/**
 * The query parameters each search route takes: the filters and its own
 * (facets takes `limit` and `cursor` and ignores them, as documented).
 */
export const SEARCH_PARAMETERS = {
  events: [...FILTERS, 'limit', 'cursor', 'format'],
  evidence: [...FILTERS, 'limit', 'since_size'],
  facets: [...FILTERS, 'limit', 'cursor', 'scan', 'top', 'buckets'],
  // The stream sends what is appended from now on: time bounds would be ignored, so they are refused.
  stream: FILTERS.filter((name) => name !== 'since' && name !== 'until'),
} as const satisfies Record<string, readonly string[]>;

/**
 * A search route's query, refusing a parameter it does not take: ignored, a
 * misspelt filter (`text=` for `q=`) would silently widen the search to
 * everything. (A parameter given twice is refused for every route, app.ts.)
 */
export function searchQuery(query: unknown, known: readonly string[]): Query {
  const given = (query ?? {}) as Query;
  for (const name of Object.keys(given)) {
    if (!known.includes(name)) throw new ApiError(400, 'ERR_BAD_REQUEST', `unknown parameter ${JSON.stringify(name.slice(0, 100))}; this search takes ${known.join(', ')}`);
  }
  return given;
}

/** Reads the query filters of GET /v1/events (and the stream). */
export function filterOf(query: Query, now = Date.now()): QueryFilter {
  const when = (name: string) => {
    const value = query[name];
    if (value === undefined || value === '') return undefined;
    const at = parseWhen(value, now);
    if (at === undefined) throw new ApiError(400, 'ERR_BAD_REQUEST', `${name} takes RFC 3339 or a duration (15m, 2h, 7d)`);
    return at;
  };
  const limit = query.limit === undefined ? 100 : Number(query.limit);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new ApiError(400, 'ERR_BAD_REQUEST', `limit must be between 1 and ${MAX_LIMIT}`);
  const text = (name: string) => (query[name] === undefined || query[name] === '' ? undefined : query[name]);
  const filter = {
    actor: text('actor'),
    action: text('action'),
    source: text('source'),
    target: text('target'),
    outcome: text('outcome'),
    since: when('since'),
    until: when('until'),
    text: text('q'),
    before: cursorOf(query.cursor),
    limit,
  };
  const problem = filterProblem(filter, { name: (field) => field, since: query.since, until: query.until });
  if (problem !== undefined) throw new ApiError(400, 'ERR_BAD_REQUEST', problem);
  return filter;
}

/** Cursors are opaque to clients: the index below which the next page starts. */
function cursorOf(cursor: string | undefined): number | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^before:(\d{1,16})$/.exec(text);
  if (!match) throw new ApiError(400, 'ERR_BAD_REQUEST', 'cursor is not one this server handed out');
  return Number(match[1]);
}

const cursorFor = (before: number) => Buffer.from(`before:${before}`).toString('base64url');

/** The search options beyond the store's filters: person expansion and `ticket` (search.ts). */
function searchOptions(ctx: AppContext, query: Query, people: SearchOptions['people']): SearchOptions {
  const ticket = query.ticket === undefined || query.ticket === '' ? undefined : query.ticket;
  if (ticket !== undefined && (ticket.length > 128 || /\s/.test(ticket))) throw new ApiError(400, 'ERR_BAD_REQUEST', 'ticket is one reference, such as INC-42');
  return { people, tickets: ticketMatchers(ctx.config.sources.tickets), ...(ticket !== undefined && { ticket }) };
}

/** Events in, events out: ingest, search, one event with its proof, and the live stream. */
export function eventRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { log } = ctx.store;
  const people = createIdentityMap(ctx.config.identities);
  // A person's first events teach the identity map their IdP subject (identityMap.ts).
  const learn = createLinkRecorder(log, (err) => app.log.warn({ err }, 'recording an identity link failed'));

  app.post('/v1/events', { onRequest: ctx.guard('ingest') }, async (request, reply) => {
    if (ctx.state.closing) throw new ApiError(503, 'ERR_UNAVAILABLE', 'the collector is shutting down', undefined, { 'retry-after': '5' });
    const events = Array.isArray(request.body) ? (request.body as unknown[]) : [request.body];
    if (events.length === 0) throw new ApiError(400, 'ERR_BAD_REQUEST', 'the request carries no events');
    if (events.length > ctx.config.limits.eventsPerRequest) {
      throw new ApiError(413, 'ERR_TOO_MANY_EVENTS', `a request may carry at most ${ctx.config.limits.eventsPerRequest} events, not ${events.length}`);
    }
    // The actor of a person's event is what their token proves; a service's is never verified (auth/bind.ts).
    const bound = bindEvents(events, request.principal);
    const result = await log.append(bound, { submitter: submitterFor(request.principal) });
    let duplicates = 0;
    for (const e of result.entries) if (e.duplicate) duplicates++;
    ctx.metrics.accepted.inc({}, result.entries.length - duplicates);
    if (duplicates) ctx.metrics.duplicates.inc({}, duplicates);
    if (request.principal?.kind === 'oidc') await learn(request.principal.identity);
    return reply.code(201).send({
      entries: result.entries.map((e) => (e.duplicate ? { id: e.id, index: e.index, duplicate: true } : { id: e.id, index: e.index })),
      size: result.size,
      checkpoint: result.checkpoint,
    });
  });

  app.get('/v1/events', { onRequest: ctx.guard('read') }, async (request) => {
    const query = searchQuery(request.query, SEARCH_PARAMETERS.events);
    const filter = filterOf(query);
    const format = query.format ?? 'stele';
    if (format !== 'stele' && format !== 'ocsf') throw new ApiError(400, 'ERR_BAD_REQUEST', 'format is stele or ocsf');
    const { entries, person } = await searchLog(log, { ...filter, limit: filter.limit + 1 }, searchOptions(ctx, query, people));
    const page = entries.slice(0, filter.limit);
    const more = entries.length > filter.limit;
    return {
      events: format === 'ocsf' ? page.map((e) => toOcsf(e.record)) : page.map((e) => e.record),
      next: more ? cursorFor(page[page.length - 1]!.index) : null,
      ...(person && { person }),
    };
  });

  app.get('/v1/events/stream', { onRequest: ctx.guard('read') }, async (request, reply) => {
    const given = request.query as Query;
    for (const name of ['since', 'until']) {
      if (given[name] !== undefined) throw new ApiError(400, 'ERR_BAD_REQUEST', `the stream sends what is appended from now on; ${name} applies to searches (GET /v1/events)`);
    }
    const query = searchQuery(given, SEARCH_PARAMETERS.stream);
    const options = searchOptions(ctx, query, people);
    const person = query.actor ? await resolvePerson(log, people, query.actor) : undefined;
    const filter = filterOf({ ...query, limit: '1' });
    stream(ctx, request, reply, searchMatcher(filter, { ...options, ...(person && { person }) }));
  });

  // An evidence bundle of a search (docs/EVIDENCE.md): proofs against the latest checkpoint,
  // and with since_size, the consistency proof from a checkpoint the client already holds.
  // Never an empty one (it would prove nothing), and never one that does not verify.
  app.get('/v1/evidence', { onRequest: ctx.guard('read') }, async (request): Promise<EvidenceBundle> => {
    const query = searchQuery(request.query, SEARCH_PARAMETERS.evidence);
    const filter = filterOf(query);
    const sinceText = query.since_size;
    if (sinceText !== undefined && !/^\d{1,16}$/.test(sinceText)) throw new ApiError(400, 'ERR_BAD_REQUEST', 'since_size must be a non-negative integer');
    const { entries } = await searchLog(log, filter, searchOptions(ctx, query, people));
    if (entries.some((e) => e.index >= log.size())) await log.catchUp();
    // Read together, before any await: every proof is for this checkpoint's size.
    const size = log.size();
    const latest = log.checkpoint();
    if (latest === undefined || size === 0) throw new ApiError(404, 'ERR_NOT_FOUND', 'the log has no checkpoint yet');
    const since = sinceText === undefined ? undefined : Number(sinceText);
    let older: string | undefined;
    if (since !== undefined && since !== size) {
      if (since === 0 || since > size) throw new ApiError(400, 'ERR_BAD_REQUEST', `since_size ${since} is not between 1 and the log's size ${size}`);
      older = (await log.checkpoints()).find((c) => c.size === since)?.note;
      if (older === undefined) throw new ApiError(400, 'ERR_BAD_REQUEST', `the log keeps no checkpoint of size ${since}`);
    }
    const proven = entries.filter((entry) => entry.index < size);
    if (proven.length === 0) throw new ApiError(404, 'ERR_NOT_FOUND', 'no events match');
    const events = [];
    for (const e of proven) {
      events.push({ record: e.record, index: e.index, leafHash: toBase64(e.leafHash), proof: (await log.inclusionProof(e.index, size)).map(toBase64), size });
    }
    const bundle: EvidenceBundle = {
      format: EVIDENCE_FORMAT,
      origin: log.origin,
      verifierKey: ctx.store.verifierKey,
      events,
      checkpoints: older === undefined ? [latest] : [older, latest],
      consistency: older === undefined ? [] : [{ from: since!, to: size, proof: (await log.consistencyProof(since!, size)).map(toBase64) }],
      readme: EVIDENCE_README,
    };
    await checkServed(ctx, request, bundle, 'these events');
    return bundle;
  });

  // Ids may hold '/', so the id is the rest of the path.
  app.get('/v1/events/*', { onRequest: ctx.guard('read') }, async (request) => {
    const id = (request.params as { '*': string })['*'];
    const entry = await log.entryById(id);
    if (!entry) throw new ApiError(404, 'ERR_NOT_FOUND', `no event with id ${id}`);
    if (entry.index >= log.size()) await log.catchUp();
    // Read together, before any await: the proof must be for the checkpoint's size.
    const size = log.size();
    const checkpoint = log.checkpoint();
    const proof = (await log.inclusionProof(entry.index, size)).map(toBase64);
    const leafHash = toBase64(entry.leafHash);
    const served: EvidenceBundle = { format: EVIDENCE_FORMAT, origin: log.origin, verifierKey: ctx.store.verifierKey, events: [{ record: entry.record, index: entry.index, leafHash, proof, size }], checkpoints: [checkpoint!], consistency: [], readme: EVIDENCE_README };
    await checkServed(ctx, request, served, 'this event');
    return { event: entry.record, index: entry.index, leafHash, size, proof, checkpoint };
  });
}

/**
 * Checks what a route is about to serve, read from storage an attacker may
 * have edited, as its reader will: each record's leaf in the tree the signed
 * checkpoint commits to (verifyEvidence). When it does not hold, the failure
 * is logged and the route answers 500 ERR_STORE_CORRUPT instead, naming
 * `what` it was asked for.
 */
async function checkServed(ctx: AppContext, request: FastifyRequest, served: EvidenceBundle, what: string): Promise<void> {
  let failed: unknown;
  try {
    const result = await verifyEvidence(served, { hasher: ctx.store.log.hasher, verifier: ctx.store.verifier });
    if (!result.ok) failed = result.events.filter((e) => !e.ok);
  } catch (err) {
    if (!(err instanceof LogError)) throw err;
    failed = { code: err.code, message: err.message };
  }
  if (failed === undefined) return;
  request.log.error({ failed }, 'events read from the store do not verify; run stele verify');
  throw new ApiError(500, 'ERR_STORE_CORRUPT', `the stored log does not verify for ${what}; run stele verify`);
}

// What a commit's entries and checkpoint look like on a stream, written once however many streams send them.
const entryData = new WeakMap<LogEntry, string>();
const commitData = new WeakMap<CommitEvent, string>();
const dataOf = (entry: LogEntry) => {
  let data = entryData.get(entry);
  if (data === undefined) entryData.set(entry, (data = JSON.stringify(entry.record)));
  return data;
};
const checkpointData = (commit: CommitEvent) => {
  let data = commitData.get(commit);
  if (data === undefined) commitData.set(commit, (data = JSON.stringify({ size: commit.size, checkpoint: commit.checkpoint })));
  return data;
};

/** Server-sent events: every new entry matching the filters, as `event: entry`. */
function stream(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, matches: (record: EventRecord) => boolean): void {
  reply.hijack();
  clearTimeout(ctx.deadlines.get(request.raw)); // a stream lives as long as its client wants
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(`: stele ${ctx.store.log.origin} size ${ctx.store.log.size()}\n\n`);
  const stop = ctx.store.log.subscribe((commit) => {
    let out = '';
    for (const entry of commit.entries) {
      if (matches(entry.record)) out += `id: ${entry.index}\nevent: entry\ndata: ${dataOf(entry)}\n\n`;
    }
    out += `event: checkpoint\ndata: ${checkpointData(commit)}\n\n`;
    res.write(out);
  });
  const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  const close = () => {
    clearInterval(beat);
    stop();
  };
  ctx.streams.add(res);
  res.on('close', () => {
    close();
    ctx.streams.delete(res);
  });
}
