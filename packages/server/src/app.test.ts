/**
 * The collector's HTTP API in-process (`buildApp(...).app.inject`) over a real
 * store in a temporary directory: the contract of every route and every error
 * path. Assertions are on status codes and `error.code`, never on messages;
 * every refused ingest also checks that the log did not grow.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, test } from 'vitest';
import {
  TILE_WIDTH, canonicalBytes, createHasher, createVerifier, encodeTile, fromBase64, openNote, parseBundle, parseCheckpoint,
  validateEvent, verifyConsistency, verifyEvidence, verifyInclusion, type Checkpoint, type EventRecord, type EvidenceBundle,
} from '@stele/log';
import { initStore, openStore, type Store } from '@stele/store';
import { buildApp } from './app.js';
import { openTokenStore, type TokenRecord, type TokenStore } from './auth/tokenStore.js';
import { resolveConfig } from './config.js';
import type { AppContext } from './context.js';

/** RFC 6962 hashing over node:crypto, independent of the store's own hasher. */
const hasher = createHasher((data) => new Uint8Array(createHash('sha256').update(data).digest()));

interface Harness {
  dir: string;
  store: Store;
  tokens: TokenStore;
  app: FastifyInstance;
  context: AppContext;
  /** Secrets of an ingest, a read and an admin token. */
  ingest: string;
  read: string;
  admin: string;
  ingestRecord: TokenRecord;
}

const open: Harness[] = [];

interface HarnessOptions {
  /** Settings layered over the defaults as flags (dir is set). */
  config?: Record<string, unknown>;
  /** The store's append queue bound (the collector passes limits.queuedEvents). */
  maxQueued?: number;
}

async function start(options: HarnessOptions = {}): Promise<Harness> {
  const dir = join(mkdtempSync(join(tmpdir(), 'stele-app-')), 'data');
  await initStore(dir, 'example.com/app-test');
  const config = resolveConfig({ flags: { dir, ...options.config } });
  const store = await openStore(dir, { maxQueued: options.maxQueued ?? config.limits.queuedEvents });
  const tokens = openTokenStore(dir);
  const ingest = tokens.create('ingester', 'ingest');
  const read = tokens.create('reader', 'read');
  const admin = tokens.create('root', 'admin');
  const { app, context } = buildApp({ store, config, tokens });
  const h: Harness = { dir, store, tokens, app, context, ingest: ingest.token, read: read.token, admin: admin.token, ingestRecord: ingest.record };
  open.push(h);
  return h;
}

afterEach(async () => {
  for (const h of open.splice(0)) {
    await h.app.close();
    await h.store.log.close().catch(() => undefined);
    h.tokens.close();
    rmSync(join(h.dir, '..'), { recursive: true, force: true });
  }
});

/** A valid event with a client id and time. */
const ev = (i: number | string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: `ev-${i}`,
  time: '2026-01-02T03:04:05.000Z',
  source: 'emacs',
  action: 'file.save',
  actor: { id: 'ada', email: 'ada@example.com' },
  target: { type: 'file', id: `/home/ada/f${i}.el`, name: `f${i}.el` },
  outcome: 'success',
  ...extra,
});

interface PostOptions {
  /** The bearer secret; null sends no Authorization header. */
  token?: string | null;
  contentType?: string;
}

function post(h: Harness, body: unknown, options: PostOptions = {}): Promise<LightMyRequestResponse> {
  const token = options.token === undefined ? h.ingest : options.token;
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return h.app.inject({ method: 'POST', url: '/v1/events', headers, payload: typeof body === 'string' ? body : JSON.stringify(body) });
}

function get(h: Harness, url: string, token: string | null = h.read): Promise<LightMyRequestResponse> {
  return h.app.inject({ method: 'GET', url, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
}

const errorCode = (res: LightMyRequestResponse): string | undefined => (res.json() as { error?: { code?: string } }).error?.code;

/** Opens a signed checkpoint with the log's verifier key and parses it. */
async function checkpointOf(h: Harness, note: string): Promise<Checkpoint> {
  const { text } = await openNote(note, [await createVerifier(h.store.verifierKey)]);
  return parseCheckpoint(text);
}

/** Asserts a refused POST: the status, the code, and that nothing was appended. */
async function refused(h: Harness, res: LightMyRequestResponse, status: number, code: string): Promise<void> {
  const before = h.store.log.size();
  expect(res.statusCode).toBe(status);
  expect(errorCode(res)).toBe(code);
  expect(h.store.log.size()).toBe(before);
  expect((await h.store.log.driver.head()).size).toBe(before);
}

interface Appended {
  entries: { id: string; index: number; duplicate?: true }[];
  size: number;
  checkpoint: string;
}

describe('POST /v1/events', () => {
  test('one object: 201 with its index and a verifying checkpoint that covers it', async () => {
    const h = await start();
    const res = await post(h, ev(1));
    expect(res.statusCode).toBe(201);
    const body = res.json() as Appended;
    expect(body.entries).toEqual([{ id: 'ev-1', index: 0 }]);
    expect(body.size).toBe(1);
    const cp = await checkpointOf(h, body.checkpoint);
    expect(cp.origin).toBe('example.com/app-test');
    expect(cp.size).toBe(1);
    const entry = await h.store.log.entry(0);
    verifyInclusion(hasher, 0, cp.size, hasher.hashLeaf(entry.bytes), [], cp.root);
  });

  test('an array: indexes in order, and each entry proves into the returned checkpoint', async () => {
    const h = await start();
    await post(h, ev('pre'));
    const res = await post(h, [ev(1), ev(2), ev(3)]);
    expect(res.statusCode).toBe(201);
    const body = res.json() as Appended;
    expect(body.entries).toEqual([{ id: 'ev-1', index: 1 }, { id: 'ev-2', index: 2 }, { id: 'ev-3', index: 3 }]);
    const cp = await checkpointOf(h, body.checkpoint);
    expect(cp.size).toBe(body.size);
    for (const { index } of body.entries) {
      const proofRes = await get(h, `/v1/proof/inclusion?index=${index}&size=${cp.size}`);
      const proof = proofRes.json() as { leafHash: string; proof: string[] };
      const entry = await h.store.log.entry(index);
      expect(fromBase64(proof.leafHash)).toEqual(hasher.hashLeaf(entry.bytes));
      verifyInclusion(hasher, index, cp.size, hasher.hashLeaf(entry.bytes), proof.proof.map(fromBase64), cp.root);
    }
  });

  test('NDJSON (application/x-ndjson), blank lines ignored', async () => {
    const h = await start();
    const body = `${JSON.stringify(ev(1))}\n\n${JSON.stringify(ev(2))}\r\n${JSON.stringify(ev(3))}`;
    const res = await post(h, body, { contentType: 'application/x-ndjson' });
    expect(res.statusCode).toBe(201);
    expect((res.json() as Appended).entries.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(h.store.log.size()).toBe(3);
  });

  test('application/json with a charset parameter is JSON', async () => {
    const h = await start();
    const res = await post(h, ev(1), { contentType: 'application/json; charset=utf-8' });
    expect(res.statusCode).toBe(201);
  });

  test('records the submitting token (type, id, name) and keeps the client fields', async () => {
    const h = await start();
    await post(h, ev(1, { reason: 'OPS-1' }));
    const { record } = await h.store.log.entry(0);
    expect(record.submitter).toEqual({ type: 'token', id: h.ingestRecord.id, name: 'ingester' });
    expect(record).toMatchObject({ id: 'ev-1', index: 0, v: 1, source: 'emacs', reason: 'OPS-1', time: '2026-01-02T03:04:05.000Z' });
  });

  test('an admin token may ingest too', async () => {
    const h = await start();
    expect((await post(h, ev(1), { token: h.admin })).statusCode).toBe(201);
  });

  test('idempotent: the same id and content returns the original index, duplicate, size unchanged', async () => {
    const h = await start();
    await post(h, [ev(1), ev(2)]);
    // Same content spelled differently: key order and the time's offset.
    const again = { ...ev(2), time: '2026-01-02T04:04:05+01:00' };
    const res = await post(h, [again, ev(3)]);
    expect(res.statusCode).toBe(201);
    const body = res.json() as Appended;
    expect(body.entries).toEqual([{ id: 'ev-2', index: 1, duplicate: true }, { id: 'ev-3', index: 2 }]);
    expect(body.size).toBe(3);
    const only = await post(h, ev(1));
    expect((only.json() as Appended).entries).toEqual([{ id: 'ev-1', index: 0, duplicate: true }]);
    expect((only.json() as Appended).size).toBe(3);
    expect(h.store.log.size()).toBe(3);
  });

  test('the same id twice in one request with the same content is appended once', async () => {
    const h = await start();
    const res = await post(h, [ev(1), ev(1)]);
    expect((res.json() as Appended).entries).toEqual([{ id: 'ev-1', index: 0 }, { id: 'ev-1', index: 0, duplicate: true }]);
    expect(h.store.log.size()).toBe(1);
  });

  test('the same id with other content: 409 ERR_ID_CONFLICT and nothing of the request appended', async () => {
    const h = await start();
    await post(h, ev(1));
    await refused(h, await post(h, [ev(2), ev(1, { outcome: 'failure' })]), 409, 'ERR_ID_CONFLICT');
    expect(await h.store.log.entryById('ev-2')).toBeUndefined();
    // ... also within one request.
    await refused(h, await post(h, [ev(5), ev(5, { reason: 'other' })]), 409, 'ERR_ID_CONFLICT');
  });

  test('malformed JSON: 400 ERR_MALFORMED_JSON', async () => {
    const h = await start();
    await refused(h, await post(h, '{"source": "emacs",'), 400, 'ERR_MALFORMED_JSON');
    await refused(h, await post(h, ''), 400, 'ERR_MALFORMED_JSON');
  });

  test('a bad NDJSON line: 400 ERR_MALFORMED_JSON, and the good lines are not appended', async () => {
    const h = await start();
    const body = `${JSON.stringify(ev(1))}\n{"oops"\n${JSON.stringify(ev(2))}\n`;
    await refused(h, await post(h, body, { contentType: 'application/x-ndjson' }), 400, 'ERR_MALFORMED_JSON');
  });

  test('schema violations: 422 ERR_EVENT_INVALID naming each bad event and field; nothing appended', async () => {
    const h = await start();
    const bad = [ev(0), ev(1, { source: 'Git' }), ev(2, { actor: { name: 'no id' }, user: 1 }), ev(3, { index: 5 })];
    const res = await post(h, bad);
    await refused(h, res, 422, 'ERR_EVENT_INVALID');
    const details = (res.json() as { error: { details: { event: number; field: string; code: string }[] } }).error.details;
    const found = details.map(({ event, field, code }) => ({ event, field, code }));
    expect(found).toEqual(expect.arrayContaining([
      { event: 1, field: 'source', code: 'format' },
      { event: 2, field: 'actor.id', code: 'required' },
      { event: 2, field: 'user', code: 'unknown_field' },
      { event: 3, field: 'index', code: 'store_field' },
    ]));
    expect(found.some((d) => d.event === 0)).toBe(false);
  });

  test('a JSON value that is not an event object: 422', async () => {
    const h = await start();
    const res = await post(h, '"just a string"');
    await refused(h, res, 422, 'ERR_EVENT_INVALID');
    await refused(h, await post(h, 'null'), 422, 'ERR_EVENT_INVALID');
  });

  test('text/plain: 415 ERR_UNSUPPORTED_MEDIA_TYPE', async () => {
    const h = await start();
    await refused(h, await post(h, JSON.stringify(ev(1)), { contentType: 'text/plain' }), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  test('more events than limits.eventsPerRequest: 413 ERR_TOO_MANY_EVENTS', async () => {
    const h = await start({ config: { limits: { eventsPerRequest: 3 } } });
    expect((await post(h, [ev(1), ev(2), ev(3)])).statusCode).toBe(201);
    await refused(h, await post(h, [ev(4), ev(5), ev(6), ev(7)]), 413, 'ERR_TOO_MANY_EVENTS');
    const ndjson = [ev(4), ev(5), ev(6), ev(7)].map((e) => JSON.stringify(e)).join('\n');
    await refused(h, await post(h, ndjson, { contentType: 'application/x-ndjson' }), 413, 'ERR_TOO_MANY_EVENTS');
  });

  test('a body over limits.bodyBytes: 413 ERR_BODY_TOO_LARGE', async () => {
    const h = await start({ config: { limits: { bodyBytes: 2048 } } });
    const big = Array.from({ length: 20 }, (_, i) => ev(i));
    expect(JSON.stringify(big).length).toBeGreaterThan(2048);
    await refused(h, await post(h, big), 413, 'ERR_BODY_TOO_LARGE');
    await refused(h, await post(h, big.map((e) => JSON.stringify(e)).join('\n'), { contentType: 'application/x-ndjson' }), 413, 'ERR_BODY_TOO_LARGE');
  });

  test('an empty array (or empty NDJSON): 400 ERR_BAD_REQUEST', async () => {
    const h = await start();
    await refused(h, await post(h, []), 400, 'ERR_BAD_REQUEST');
    await refused(h, await post(h, '\n\n', { contentType: 'application/x-ndjson' }), 400, 'ERR_BAD_REQUEST');
  });

  test('no credential: 401 ERR_AUTH_MISSING with WWW-Authenticate', async () => {
    const h = await start();
    const res = await post(h, ev(1), { token: null });
    await refused(h, res, 401, 'ERR_AUTH_MISSING');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  test('an unknown, malformed or revoked token: 401 ERR_AUTH_INVALID', async () => {
    const h = await start();
    await refused(h, await post(h, ev(1), { token: 'stele_000000000000_nope' }), 401, 'ERR_AUTH_INVALID');
    await refused(h, await post(h, ev(1), { token: 'not-even-a-stele-token' }), 401, 'ERR_AUTH_INVALID');
    const basic = await h.app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json', authorization: 'Basic YTpi' }, payload: JSON.stringify(ev(1)) });
    await refused(h, basic, 401, 'ERR_AUTH_INVALID');
    expect((await post(h, ev(1))).statusCode).toBe(201);
    h.tokens.revoke('ingester');
    await refused(h, await post(h, ev(2)), 401, 'ERR_AUTH_INVALID');
  });

  test('a read-scope token: 403 ERR_FORBIDDEN', async () => {
    const h = await start();
    await refused(h, await post(h, ev(1), { token: h.read }), 403, 'ERR_FORBIDDEN');
  });

  test('a request without a credential is refused before its body is parsed', async () => {
    const h = await start();
    await refused(h, await post(h, '{"malformed', { token: null }), 401, 'ERR_AUTH_MISSING');
  });

  test('while shutting down: 503 ERR_UNAVAILABLE with Retry-After, /readyz 503', async () => {
    const h = await start();
    h.context.state.closing = true;
    const res = await post(h, ev(1));
    await refused(h, res, 503, 'ERR_UNAVAILABLE');
    expect(res.headers['retry-after']).toBeDefined();
    expect((await get(h, '/readyz', null)).statusCode).toBe(503);
  });

  test('an event that passes validateEvent fits with a short token name', async () => {
    const h = await start();
    const res = await post(h, largestEvent());
    expect(res.statusCode).toBe(201);
  });

  test('an event that passes validateEvent is accepted whatever the token is called', async () => {
    const h = await start();
    expect(() => h.tokens.create('a-very-long-token-name-'.repeat(6), 'ingest')).toThrow(RangeError);
    const { token } = h.tokens.create('n'.repeat(64), 'ingest');
    const res = await post(h, largestEvent(), { token });
    expect(res.statusCode).toBe(201);
  });

  test('flood: a tiny queue answers 503 ERR_OVERLOADED with Retry-After, and loses nothing it acknowledged', async () => {
    const h = await start({ maxQueued: 10, config: { limits: { queuedEvents: 10 } } });
    const requests = Array.from({ length: 60 }, (_, r) => Array.from({ length: 4 }, (_, k) => ev(`flood-${r}-${k}`)));
    const responses = await Promise.all(requests.map((batch) => post(h, batch)));
    const accepted: string[] = [];
    const overloaded: string[] = [];
    responses.forEach((res, r) => {
      const ids = requests[r]!.map((e) => e.id as string);
      if (res.statusCode === 201) {
        accepted.push(...ids);
      } else {
        expect(res.statusCode).toBe(503);
        expect(errorCode(res)).toBe('ERR_OVERLOADED');
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
        overloaded.push(...ids);
      }
    });
    expect(overloaded.length).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThan(0);
    for (const id of accepted) expect(await h.store.log.entryById(id)).toBeDefined();
    for (const id of overloaded) expect(await h.store.log.entryById(id)).toBeUndefined();
    expect(h.store.log.size()).toBe(accepted.length);
  });
});

/** An event whose validated canonical JSON is exactly the 65,279-byte cap, without id or time. */
function largestEvent(): Record<string, unknown> {
  const base = { source: 'emacs', action: 'file.save', actor: { id: 'ada' }, details: { pad: '' } };
  const sizeOf = (e: unknown) => {
    const v = validateEvent(e);
    if (!v.ok) throw new Error(JSON.stringify(v.errors));
    return canonicalBytes(v.event).length;
  };
  const event = { ...base, details: { pad: 'x'.repeat(64_511 - sizeOf(base)) } };
  expect(sizeOf(event)).toBe(64_511);
  return event;
}

describe('GET /v1/events', () => {
  const HOUR = 3_600_000;

  /** 30 events: sources, actors, actions and times varied; index i has id q-i. */
  async function seeded(): Promise<Harness> {
    const h = await start();
    const now = Date.now();
    const events = Array.from({ length: 30 }, (_, i) => ({
      id: `q-${i}`,
      // Oldest first: q-0 is 30 hours old, q-29 half an hour.
      time: new Date(now - (30 - i) * HOUR + HOUR / 2).toISOString(),
      source: ['emacs', 'git', 'kubernetes'][i % 3],
      action: ['package.install', 'package.remove', 'file.save'][Math.floor(i / 3) % 3],
      actor: { id: ['alice', 'bob'][i % 2], email: `${['alice', 'bob'][i % 2]}@example.com` },
      target: { type: 'file', id: `/srv/t${i % 5}`, name: `t${i % 5}` },
      reason: i % 10 === 7 ? `rotate the frobnicator key ${i}` : `routine ${i}`,
    }));
    const res = await post(h, events);
    expect(res.statusCode).toBe(201);
    return h;
  }

  async function page(h: Harness, query: string): Promise<{ events: EventRecord[]; next: string | null }> {
    const res = await get(h, `/v1/events?${query}`);
    expect(res.statusCode).toBe(200);
    return res.json() as { events: EventRecord[]; next: string | null };
  }

  const ids = (events: EventRecord[]) => events.map((e) => e.id);
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => `q-${to - 1 - k}`);

  test('newest first, default limit 100', async () => {
    const h = await seeded();
    const { events, next } = await page(h, '');
    expect(ids(events)).toEqual(range(0, 30));
    expect(next).toBeNull();
  });

  test('filters: actor (id or email), action prefix, source, target, q', async () => {
    const h = await seeded();
    const all = Array.from({ length: 30 }, (_, i) => i);
    const expectIds = async (query: string, keep: (i: number) => boolean) => {
      const { events } = await page(h, query);
      expect(ids(events)).toEqual(all.filter(keep).reverse().map((i) => `q-${i}`));
    };
    await expectIds('actor=alice', (i) => i % 2 === 0);
    await expectIds('actor=bob%40example.com', (i) => i % 2 === 1);
    await expectIds('action=package.*', (i) => Math.floor(i / 3) % 3 !== 2);
    await expectIds('action=package.remove', (i) => Math.floor(i / 3) % 3 === 1);
    await expectIds('source=git', (i) => i % 3 === 1);
    await expectIds('target=%2Fsrv%2Ft3', (i) => i % 5 === 3);
    await expectIds('target=t4', (i) => i % 5 === 4);
    await expectIds('q=frobnicator', (i) => i % 10 === 7);
    await expectIds('source=emacs&actor=alice&action=package.*', (i) => i % 3 === 0 && i % 2 === 0 && Math.floor(i / 3) % 3 !== 2);
  });

  test('since and until: durations back from now and RFC 3339 (since inclusive, until exclusive)', async () => {
    const h = await seeded();
    // q-i happened (29.5 - i) hours ago.
    expect(ids((await page(h, 'since=5h')).events)).toEqual(range(25, 30));
    expect(ids((await page(h, 'until=25h')).events)).toEqual(range(0, 5));
    expect(ids((await page(h, 'since=10h&until=240m')).events)).toEqual(range(20, 26));
    const t10 = (await h.store.log.entryById('q-10'))!.record.time;
    const t12 = (await h.store.log.entryById('q-12'))!.record.time;
    expect(ids((await page(h, `since=${encodeURIComponent(t10)}&until=${encodeURIComponent(t12)}`)).events)).toEqual(['q-11', 'q-10']);
  });

  test('cursor pagination walks every page once, newest first, without gaps or repeats', async () => {
    const h = await seeded();
    const seen: string[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const res: { events: EventRecord[]; next: string | null } = await page(h, `limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.events.length).toBe(pages < 4 ? 7 : 2);
      seen.push(...ids(res.events));
      cursor = res.next;
      pages++;
    }
    expect(pages).toBe(5);
    expect(seen).toEqual(range(0, 30));
  });

  test('pagination with a filter', async () => {
    const h = await seeded();
    const first = await page(h, 'actor=alice&limit=4');
    const second = await page(h, `actor=alice&limit=4&cursor=${first.next}`);
    expect([...ids(first.events), ...ids(second.events)]).toEqual(['q-28', 'q-26', 'q-24', 'q-22', 'q-20', 'q-18', 'q-16', 'q-14']);
  });

  test('outcome filter', async () => {
    const h = await seeded();
    expect((await page(h, 'outcome=unknown')).events).toHaveLength(30);
    expect((await page(h, 'outcome=failure')).events).toHaveLength(0);
  });

  test('cursors are stable: events appended between pages do not shift the next page', async () => {
    const h = await seeded();
    const first = await page(h, 'limit=10');
    expect((await post(h, Array.from({ length: 5 }, (_, i) => ev(`late-${i}`)))).statusCode).toBe(201);
    const second = await page(h, `limit=10&cursor=${first.next}`);
    expect(ids(second.events)).toEqual(range(10, 20));
    expect(ids((await page(h, 'limit=3')).events)).toEqual(['ev-late-4', 'ev-late-3', 'ev-late-2']);
  });

  test('bad parameters: 400 ERR_BAD_REQUEST', async () => {
    const h = await seeded();
    for (const query of ['since=yesterday', 'until=2026-13-01T00:00:00Z', 'since=2026-01-01', 'limit=0', 'limit=1001', 'limit=ten', 'limit=2.5', 'cursor=bm9wZQ', 'cursor=%21%21']) {
      const res = await get(h, `/v1/events?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(errorCode(res), query).toBe('ERR_BAD_REQUEST');
    }
    expect((await get(h, '/v1/events?limit=1000')).statusCode).toBe(200);
    expect((await get(h, '/v1/events?limit=1')).statusCode).toBe(200);
  });

  test('needs read scope', async () => {
    const h = await seeded();
    expect(errorCode(await get(h, '/v1/events', null))).toBe('ERR_AUTH_MISSING');
    expect(errorCode(await get(h, '/v1/events', h.ingest))).toBe('ERR_FORBIDDEN');
    expect((await get(h, '/v1/events', h.admin)).statusCode).toBe(200);
  });
});

describe('GET /v1/events/<id>', () => {
  interface OneEvent {
    event: EventRecord;
    index: number;
    leafHash: string;
    size: number;
    proof: string[];
    checkpoint: string;
  }

  async function proves(h: Harness, body: OneEvent): Promise<void> {
    const cp = await checkpointOf(h, body.checkpoint);
    expect(cp.size).toBe(body.size);
    const entry = await h.store.log.entry(body.index);
    expect(fromBase64(body.leafHash)).toEqual(hasher.hashLeaf(entry.bytes));
    verifyInclusion(hasher, body.index, cp.size, hasher.hashLeaf(canonicalBytes(body.event)), body.proof.map(fromBase64), cp.root);
  }

  test('an event, its index and an inclusion proof against the checkpoint; ids may hold "/" and punctuation', async () => {
    const h = await start();
    const ids = ['plain', 'emacs-7f3a/1042', 'a/b/c', 'x:y@z+w=v.u_t-s'];
    await post(h, Array.from({ length: 11 }, (_, i) => ev(`fill-${i}`)));
    await post(h, ids.map((id) => ({ ...ev(0), id })));
    await post(h, Array.from({ length: 6 }, (_, i) => ev(`after-${i}`)));
    for (const id of ids) {
      const res = await get(h, `/v1/events/${id}`);
      expect(res.statusCode, id).toBe(200);
      const body = res.json() as OneEvent;
      expect(body.event.id).toBe(id);
      expect(body.event.index).toBe(body.index);
      await proves(h, body);
    }
    // Percent-encoded slashes name the same event.
    const encoded = await get(h, `/v1/events/${encodeURIComponent('emacs-7f3a/1042')}`);
    expect((encoded.json() as OneEvent).event.id).toBe('emacs-7f3a/1042');
  });

  test('unknown id: 404 ERR_NOT_FOUND', async () => {
    const h = await start();
    await post(h, ev(1));
    const res = await get(h, '/v1/events/nope/nothing');
    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('ERR_NOT_FOUND');
  });

  test('needs read scope', async () => {
    const h = await start();
    await post(h, ev(1));
    expect(errorCode(await get(h, '/v1/events/ev-1', null))).toBe('ERR_AUTH_MISSING');
    expect(errorCode(await get(h, '/v1/events/ev-1', h.ingest))).toBe('ERR_FORBIDDEN');
  });

  test('the proof verifies against the returned checkpoint even when a commit lands meanwhile', async () => {
    const h = await start();
    await post(h, [ev(1), ev(2), ev(3)]);
    const log = h.store.log;
    const original = log.inclusionProof.bind(log);
    log.inclusionProof = async (index, size) => {
      const proof = await original(index, size);
      await log.append([ev('meanwhile')]);
      return proof;
    };
    const body = (await get(h, '/v1/events/ev-2')).json() as OneEvent;
    await proves(h, body);
  });

  test('an event appended by another writer on the same directory is served with a proof', async () => {
    const h = await start();
    await post(h, ev(1));
    const other = await openStore(h.dir);
    try {
      await other.log.append([ev('other-writer')]);
    } finally {
      await other.log.close();
    }
    const res = await get(h, '/v1/events/ev-other-writer');
    expect(res.statusCode).toBe(200);
  });
});

describe('proofs', () => {
  async function grown(): Promise<Harness> {
    const h = await start();
    for (let b = 0; b < 5; b++) await post(h, Array.from({ length: 7 }, (_, i) => ev(`p-${b}-${i}`)));
    return h;
  }

  test('GET /v1/proof/inclusion: verifies for every index at several sizes', async () => {
    const h = await grown();
    for (const size of [1, 8, 21, 35]) {
      const root = await h.store.log.root(size);
      for (let index = 0; index < size; index += 3) {
        const res = await get(h, `/v1/proof/inclusion?index=${index}&size=${size}`);
        expect(res.statusCode).toBe(200);
        const body = res.json() as { index: number; size: number; leafHash: string; proof: string[] };
        expect(body).toMatchObject({ index, size });
        const entry = await h.store.log.entry(index);
        verifyInclusion(hasher, index, size, hasher.hashLeaf(entry.bytes), body.proof.map(fromBase64), root);
      }
    }
  });

  test('inclusion at the latest size by default, with the latest checkpoint', async () => {
    const h = await grown();
    const body = (await get(h, '/v1/proof/inclusion?index=17')).json() as { size: number; leafHash: string; proof: string[]; checkpoint: string };
    expect(body.size).toBe(35);
    const cp = await checkpointOf(h, body.checkpoint);
    verifyInclusion(hasher, 17, cp.size, fromBase64(body.leafHash), body.proof.map(fromBase64), cp.root);
  });

  test('GET /v1/proof/consistency: verifies between checkpoints and between any sizes', async () => {
    const h = await grown();
    for (const [from, to] of [[1, 35], [7, 14], [8, 35], [13, 29], [35, 35], [20, 21]] as const) {
      const res = await get(h, `/v1/proof/consistency?from=${from}&to=${to}`);
      expect(res.statusCode).toBe(200);
      const body = res.json() as { from: number; to: number; proof: string[] };
      expect(body).toMatchObject({ from, to });
      verifyConsistency(hasher, from, to, body.proof.map(fromBase64), await h.store.log.root(from), await h.store.log.root(to));
    }
    const latest = (await get(h, '/v1/proof/consistency?from=14')).json() as { to: number; proof: string[]; checkpoint: string };
    const cp = await checkpointOf(h, latest.checkpoint);
    expect(latest.to).toBe(cp.size);
    verifyConsistency(hasher, 14, cp.size, latest.proof.map(fromBase64), await h.store.log.root(14), cp.root);
  });

  test('out of range or malformed: 400 ERR_BAD_REQUEST', async () => {
    const h = await grown();
    for (const url of [
      '/v1/proof/inclusion?index=35', '/v1/proof/inclusion?index=3&size=36', '/v1/proof/inclusion?index=5&size=5', '/v1/proof/inclusion',
      '/v1/proof/inclusion?index=-1', '/v1/proof/inclusion?index=1.5', '/v1/proof/inclusion?index=0&size=abc',
      '/v1/proof/consistency?from=36', '/v1/proof/consistency?from=10&to=9', '/v1/proof/consistency?from=1&to=36', '/v1/proof/consistency',
      '/v1/proof/consistency?from=x',
    ]) {
      const res = await get(h, url);
      expect(res.statusCode, url).toBe(400);
      expect(errorCode(res), url).toBe('ERR_BAD_REQUEST');
    }
  });

  test('need read scope', async () => {
    const h = await grown();
    expect(errorCode(await get(h, '/v1/proof/inclusion?index=1', null))).toBe('ERR_AUTH_MISSING');
    expect(errorCode(await get(h, '/v1/proof/consistency?from=1', h.ingest))).toBe('ERR_FORBIDDEN');
  });
});

describe('the log and its tiles', () => {
  /** A log of 600 entries: two full level-0 tiles and a partial one of 88. */
  async function tiled(config: Record<string, unknown> = {}): Promise<Harness> {
    const h = await start({ config });
    for (let b = 0; b < 6; b++) {
      const res = await post(h, Array.from({ length: 100 }, (_, i) => ev(`t-${b * 100 + i}`)));
      expect(res.statusCode).toBe(201);
    }
    return h;
  }

  test('GET /v1/log: origin, verifier key, size, checkpoint', async () => {
    const h = await start();
    const empty = (await get(h, '/v1/log')).json() as Record<string, unknown>;
    expect(empty).toEqual({ origin: 'example.com/app-test', verifierKey: h.store.verifierKey, size: 0, checkpoint: null, selfCheck: null });
    await post(h, ev(1));
    const body = (await get(h, '/v1/log')).json() as { size: number; checkpoint: string };
    expect(body.size).toBe(1);
    expect((await checkpointOf(h, body.checkpoint)).size).toBe(1);
  });

  test('/log/checkpoint: the signed note, cached a few seconds and only privately; 404 on an empty log', async () => {
    const h = await start();
    const none = await get(h, '/log/checkpoint');
    expect(none.statusCode).toBe(404);
    expect(errorCode(none)).toBe('ERR_NOT_FOUND');
    await post(h, ev(1));
    const res = await get(h, '/log/checkpoint');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.headers['cache-control']).toBe('private, max-age=5');
    expect((await checkpointOf(h, res.body)).size).toBe(1);
  });

  test('hash tiles and entry bundles: the tree of the entries; full tiles immutable, partial ones short-lived', async () => {
    const h = await tiled();
    const leaves: Uint8Array[] = [];
    for (let i = 0; i < 600; i++) leaves.push(hasher.hashLeaf((await h.store.log.entry(i)).bytes));

    const full = await get(h, '/log/tile/0/001');
    expect(full.statusCode).toBe(200);
    expect(full.headers['content-type']).toBe('application/octet-stream');
    expect(full.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(new Uint8Array(full.rawPayload)).toEqual(encodeTile(leaves.slice(256, 512)));

    const partial = await get(h, '/log/tile/0/002.p/88');
    expect(partial.statusCode).toBe(200);
    expect(partial.headers['cache-control']).toBe('private, max-age=5');
    expect(new Uint8Array(partial.rawPayload)).toEqual(encodeTile(leaves.slice(512, 600)));

    // Level 1: the two complete 256-leaf subtrees.
    const level1 = await get(h, '/log/tile/1/000.p/2');
    expect(level1.statusCode).toBe(200);
    // The root of leaves [start, start + 256) is a perfect subtree: fold it here.
    const subtree = (start: number) => {
      let row = leaves.slice(start, start + 256);
      while (row.length > 1) row = Array.from({ length: row.length / 2 }, (_, k) => hasher.hashChildren(row[2 * k]!, row[2 * k + 1]!));
      return row[0]!;
    };
    expect(new Uint8Array(level1.rawPayload)).toEqual(encodeTile([subtree(0), subtree(256)]));

    const bundle = await get(h, '/log/tile/entries/000');
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    const entries = parseBundle(new Uint8Array(bundle.rawPayload), TILE_WIDTH);
    expect(entries.map((e) => hasher.hashLeaf(e))).toEqual(leaves.slice(0, 256));
    const last = await get(h, '/log/tile/entries/002.p/88');
    expect(last.statusCode).toBe(200);
    expect(last.headers['cache-control']).toBe('private, max-age=5');
    expect(parseBundle(new Uint8Array(last.rawPayload), 88)).toHaveLength(88);
  });

  test('tiles beyond the size or with malformed paths: 404 ERR_NOT_FOUND', async () => {
    const h = await tiled();
    for (const path of [
      'tile/0/002', 'tile/0/002.p/89', 'tile/0/003.p/1', 'tile/1/000', 'tile/1/000.p/3', 'tile/2/000.p/1', 'tile/entries/002', 'tile/entries/002.p/100',
      'tile/0/x000/001', 'tile/0/1', 'tile/0/001.p/256', 'tile/0/../checkpoint', 'tile/64/000', 'tile/entries/abc',
    ]) {
      const res = await get(h, `/log/${path}`);
      expect(res.statusCode, path).toBe(404);
      expect(errorCode(res), path).toBe('ERR_NOT_FOUND');
    }
  });

  test('publicTiles off: everything under /log/ (and /v1/log) needs read scope', async () => {
    const h = await tiled();
    for (const path of ['/log/checkpoint', '/log/tile/0/000', '/log/tile/entries/000', '/v1/log']) {
      expect(errorCode(await get(h, path, null)), path).toBe('ERR_AUTH_MISSING');
      expect(errorCode(await get(h, path, h.ingest)), path).toBe('ERR_FORBIDDEN');
      expect((await get(h, path, h.read)).statusCode, path).toBe(200);
    }
  });

  test('publicTiles on: anonymous may read the checkpoint and hash tiles, never entry bundles', async () => {
    const h = await tiled({ publicTiles: true });
    for (const path of ['/log/checkpoint', '/log/tile/0/000', '/log/tile/0/002.p/88', '/log/tile/1/000.p/2', '/v1/log']) {
      expect((await get(h, path, null)).statusCode, path).toBe(200);
    }
    for (const path of ['/log/tile/entries/000', '/log/tile/entries/002.p/88']) {
      expect(errorCode(await get(h, path, null)), path).toBe('ERR_AUTH_MISSING');
      const res = await get(h, path, h.read);
      expect(res.statusCode, path).toBe(200);
      // The events themselves: never for a shared cache.
      expect(res.headers['cache-control'], path).toMatch(/^private, /);
    }
    // What anyone may fetch, a shared cache may keep.
    expect((await get(h, '/log/checkpoint', null)).headers['cache-control']).toBe('public, max-age=5');
    expect((await get(h, '/log/tile/0/000', null)).headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await get(h, '/log/tile/0/002.p/88', null)).headers['cache-control']).toBe('public, max-age=5');
    // A bad credential is still refused, even where anonymous callers are let in.
    expect(errorCode(await get(h, '/log/checkpoint', 'stele_bad_token'))).toBe('ERR_AUTH_INVALID');
    // Events themselves stay private.
    expect(errorCode(await get(h, '/v1/events', null))).toBe('ERR_AUTH_MISSING');
  });
});

describe('meta routes', () => {
  test('/healthz and /readyz need no credential', async () => {
    const h = await start();
    const health = await get(h, '/healthz', null);
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const ready = await get(h, '/readyz', null);
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', size: 0, queued: 0 });
  });

  test('/metrics counts accepted, duplicate and rejected events, the tree size, batches and latency', async () => {
    const h = await start();
    await post(h, [ev(1), ev(2), ev(3)]);
    await post(h, ev(1));
    await post(h, [ev(4, { source: 'Bad' }), ev(5, { source: 'Bad' })]);
    await post(h, ev(6), { token: null });
    await post(h, '{', {});
    expect((await post(h, [])).statusCode).toBe(400); // an empty batch counts as one
    const res = await get(h, '/metrics', null);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const value = (series: string): number | undefined => {
      const line = res.body.split('\n').find((l) => l.startsWith(series + ' '));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(value('stele_events_accepted_total')).toBe(3);
    expect(value('stele_events_duplicate_total')).toBe(1);
    expect(value('stele_events_rejected_total{reason="ERR_EVENT_INVALID"}')).toBe(2);
    expect(value('stele_events_rejected_total{reason="ERR_AUTH_MISSING"}')).toBe(1);
    expect(value('stele_events_rejected_total{reason="ERR_MALFORMED_JSON"}')).toBe(1);
    expect(value('stele_events_rejected_total{reason="ERR_BAD_REQUEST"}')).toBe(1);
    expect(value('stele_tree_size')).toBe(3);
    expect(value('stele_append_queue_events')).toBe(0);
    expect(value('stele_commit_batch_events_count')).toBe(1);
    expect(value('stele_commit_batch_events_sum')).toBe(3);
    expect(value('stele_commit_batch_events_bucket{le="5"}')).toBe(1);
    expect(value('stele_commit_batch_events_bucket{le="2"}')).toBe(0);
    expect(value('stele_http_request_duration_seconds_count')).toBeGreaterThanOrEqual(6);
    expect(res.body).toMatch(/^# TYPE stele_http_request_duration_seconds histogram$/m);
    expect(res.body).toMatch(/^stele_checkpoint_age_seconds \d/m);
  });

  test('/metrics is open, but a bad credential is refused', async () => {
    const h = await start();
    expect(errorCode(await get(h, '/metrics', 'stele_nope'))).toBe('ERR_AUTH_INVALID');
  });

  test('/openapi.json: OpenAPI 3.1 with every route', async () => {
    const h = await start();
    const res = await get(h, '/openapi.json', null);
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
      '/v1/events', '/v1/events/{id}', '/v1/events/stream', '/v1/proof/inclusion', '/v1/proof/consistency', '/v1/log',
      '/log/checkpoint', '/log/tile/{level}/{index}', '/log/tile/entries/{index}', '/healthz', '/readyz', '/metrics',
    ]));
    expect(Object.keys(doc.paths['/v1/events']!)).toEqual(expect.arrayContaining(['get', 'post']));
    // Each 404 names the codes that route can answer: a source switched off only where there is one.
    const notFound = (path: string, method: string) => JSON.stringify((doc.paths[path]![method] as { responses: Record<string, unknown> }).responses['404']);
    expect(notFound('/v1/events/{id}', 'get')).not.toContain('ERR_SOURCE_DISABLED');
    expect(notFound('/v1/sources/github', 'post')).toContain('ERR_SOURCE_DISABLED');
  });

  test('/docs: an HTML page', async () => {
    const h = await start();
    const res = await get(h, '/docs', null);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toMatch(/^<!doctype html>/i);
    expect(res.body).toContain('/v1/events');
  });

  test('an unknown route: 404 in the error shape', async () => {
    const h = await start();
    for (const [method, url] of [['GET', '/nope'], ['POST', '/v1/nope'], ['DELETE', '/v1/events']] as const) {
      const res = await h.app.inject({ method, url });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'ERR_NOT_FOUND', message: expect.any(String) } });
    }
  });

  test('auth off: anonymous callers may do everything, recorded as such', async () => {
    const h = await start({ config: { auth: false } });
    const res = await post(h, ev(1), { token: null });
    expect(res.statusCode).toBe(201);
    expect((await get(h, '/v1/events', null)).statusCode).toBe(200);
    expect((await h.store.log.entry(0)).record.submitter).toMatchObject({ id: 'anonymous' });
  });

  test('buildApp refuses auth on without a token store', async () => {
    const h = await start();
    expect(() => buildApp({ store: h.store, config: h.context.config })).toThrow();
  });
});

describe('GET /v1/evidence', () => {
  test('a bundle of the search that verifies offline, linked to an older checkpoint with since_size', async () => {
    const h = await start();
    expect((await post(h, [ev(1), ev(2), ev(3, { actor: { id: 'bob' } })])).statusCode).toBe(201);
    const first = (await h.store.log.checkpoints()).at(-1)!;
    expect((await post(h, [ev(4), ev(5)])).statusCode).toBe(201);
    const res = await get(h, `/v1/evidence?actor=ada&limit=10&since_size=${first.size}`);
    expect(res.statusCode).toBe(200);
    const bundle = res.json() as EvidenceBundle;
    expect(bundle).toMatchObject({ format: 'stele-evidence/1', origin: 'example.com/app-test', verifierKey: h.store.verifierKey });
    expect(bundle.events.map((e) => e.record.id)).toEqual(['ev-5', 'ev-4', 'ev-2', 'ev-1']);
    expect(bundle.checkpoints).toHaveLength(2);
    expect(bundle.consistency).toEqual([{ from: first.size, to: h.store.log.size(), proof: expect.any(Array) }]);
    const result = await verifyEvidence(bundle, { hasher, verifier: await createVerifier(h.store.verifierKey) });
    expect(result.ok).toBe(true);
    expect(result.sizes).toEqual([first.size, h.store.log.size()]);

    (bundle.events[1]!.record as unknown as { action: string }).action = 'file.delete';
    expect((await verifyEvidence(bundle, { hasher })).events.map((e) => e.ok)).toEqual([true, false, true, true]);

    // Without since_size: the latest checkpoint alone; the limit holds.
    const plain = (await get(h, '/v1/evidence?limit=2')).json() as EvidenceBundle;
    expect(plain.checkpoints).toHaveLength(1);
    expect(plain.events).toHaveLength(2);
    expect((await verifyEvidence(plain, { hasher })).ok).toBe(true);
  });

  test('refuses a bad since_size or limit, and callers without scope read', async () => {
    const h = await start();
    expect((await post(h, [ev(1), ev(2)])).statusCode).toBe(201);
    for (const url of ['/v1/evidence?since_size=x', '/v1/evidence?since_size=0', '/v1/evidence?since_size=99', '/v1/evidence?limit=0']) {
      expect(errorCode(await get(h, url))).toBe('ERR_BAD_REQUEST');
    }
    expect(errorCode(await get(h, '/v1/evidence', null))).toBe('ERR_AUTH_MISSING');
    expect(errorCode(await get(h, '/v1/evidence', h.ingest))).toBe('ERR_FORBIDDEN');
  });
});
