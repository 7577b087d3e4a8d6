/**
 * The collector's query parameters and framework errors over a real loopback
 * socket (`buildApp` + `listen`): a parameter given twice, one a search route
 * does not take, a search that would match everything or nothing, and what
 * Node's parser and Fastify's router refuse before any route runs. Every
 * refusal is asserted on its status, its code and the documented shape
 * `{"error":{"code","message"}}`; the console's and Emacs' own requests must
 * still be answered.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildApp, openApiDocument, openTokenStore, resolveConfig, type TokenStore } from '@stele/server';
import { initStore, openStore, type Store } from '@stele/store';
import { parseQuery, toSearchParams } from '../packages/web/src/query.js';
import { removeTempDirs, stele, tempDir } from './helpers.js';

let store: Store;
let tokens: TokenStore;
let app: FastifyInstance;
let base: string;
let port: number;
let read: string;
let dir: string;

/** The events appended, in log order: their times are deliberately not in that order. */
const EVENTS = [
  { id: 'p-0', time: '2026-01-02T10:00:00.000Z', outcome: 'success', reason: 'init.el saved' },
  { id: 'p-1', time: '2026-01-05T10:00:00.000Z', outcome: 'failure', reason: 'Ärger mit dem Paket (INC-42)' },
  { id: 'p-2', time: '2026-01-01T10:00:00.000Z', outcome: 'success', reason: 'a backfilled event, older than the rest' },
].map((e) => ({ ...e, source: 'emacs', action: 'file.save', actor: { id: 'ada', email: 'ada@example.com' }, target: { type: 'file', id: `/home/ada/${e.id}` } }));

beforeAll(async () => {
  dir = join(tempDir('api-params'), 'data');
  await initStore(dir, 'example.com/api-params');
  const config = resolveConfig({ flags: { dir } });
  store = await openStore(dir);
  tokens = openTokenStore(dir);
  read = tokens.create('reader', 'read').token;
  ({ app } = buildApp({ store, config, tokens }));
  for (const event of EVENTS) await store.log.append([event]);
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await app.close();
  await store.log.close();
  tokens.close();
  removeTempDirs();
});

const get = (path: string, init: RequestInit = {}) => fetch(base + path, { ...init, headers: { authorization: `Bearer ${read}`, ...init.headers } });

/** Asserts an error answer: its status, its code and exactly the documented shape; returns the message. */
async function refused(res: Response, status: number, code: string): Promise<string> {
  const body = (await res.json()) as unknown;
  expect({ status: res.status, type: res.headers.get('content-type'), body }).toEqual({
    status,
    type: 'application/json; charset=utf-8',
    body: { error: { code, message: expect.any(String) } },
  });
  return (body as { error: { message: string } }).error.message;
}

/** Writes raw bytes on a new connection and reads until the server closes it. */
function raw(bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (b: Buffer) => chunks.push(b));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.setTimeout(5000, () => socket.destroy(new Error('the server did not close the connection')));
  });
}

/** The status, headers and parsed body of one raw HTTP/1.1 answer. */
function parseAnswer(text: string): { status: number; headers: Record<string, string>; body: unknown } {
  const [head, body] = [text.slice(0, text.indexOf('\r\n\r\n')), text.slice(text.indexOf('\r\n\r\n') + 4)];
  const [line, ...fields] = head.split('\r\n');
  const headers = Object.fromEntries(fields.map((f) => [f.slice(0, f.indexOf(':')).toLowerCase(), f.slice(f.indexOf(':') + 1).trim()]));
  expect(Buffer.byteLength(body)).toBe(Number(headers['content-length']));
  return { status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(line!)![1]), headers, body: JSON.parse(body) };
}

describe('a query parameter given twice', () => {
  test.each([
    ['/v1/events?actor=a&actor=b', 'actor'],
    ['/v1/events?source=git&source=emacs', 'source'],
    ['/v1/events?limit=1&limit=2', 'limit'],
    ['/v1/evidence?actor=a&actor=b', 'actor'],
    ['/v1/events/facets?q=a&q=b', 'q'],
    ['/v1/events/stream?actor=a&actor=b&actor=c', 'actor'],
    ['/v1/proof/inclusion?index=0&index=1', 'index'],
  ])('%s is 400 ERR_BAD_REQUEST naming it', async (path, name) => {
    expect(await refused(await get(path), 400, 'ERR_BAD_REQUEST')).toContain(name);
  });

  test('the credential is checked first, and a route that does not exist stays 404', async () => {
    await refused(await fetch(`${base}/v1/events?actor=a&actor=b`), 401, 'ERR_AUTH_MISSING');
    await refused(await get('/v1/nowhere?a=1&a=2'), 404, 'ERR_NOT_FOUND');
  });
});

describe('framework errors in the documented shape', () => {
  test('a raw non-ASCII request line is 400 ERR_BAD_REQUEST, with Connection: close', async () => {
    const answer = parseAnswer(await raw(Buffer.from(`GET /v1/events?q=ärger HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${read}\r\n\r\n`, 'utf8')));
    expect(answer).toEqual({
      status: 400,
      headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': expect.any(String), connection: 'close' },
      body: { error: { code: 'ERR_BAD_REQUEST', message: expect.any(String) } },
    });
  });

  test.each([
    ['an unknown method', 'FROB / HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'ERR_BAD_REQUEST'],
    ['a space in the URL', 'GET /v1/events?q=a b HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'ERR_BAD_REQUEST'],
    ['a malformed header', 'GET /v1/log HTTP/1.1\r\nBad Header: x\r\n\r\n', 400, 'ERR_BAD_REQUEST'],
    ['a malformed chunk', 'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, 'ERR_BAD_REQUEST'],
    ['headers over the limit', `GET /v1/log HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'ERR_HEADERS_TOO_LARGE'],
  ])('%s is %i %s', async (_name, request, status, code) => {
    const answer = parseAnswer(await raw(request));
    expect({ status: answer.status, connection: answer.headers.connection, body: answer.body }).toEqual({
      status,
      connection: 'close',
      body: { error: { code, message: expect.any(String) } },
    });
  });

  test('a pipelined bad request is answered after the good one before it', async () => {
    const text = await raw(`GET /v1/log HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${read}\r\n\r\nGET /\u0001 HTTP/1.1\r\n\r\n`);
    const second = text.indexOf('HTTP/1.1 400 ');
    expect(text.startsWith('HTTP/1.1 200 ')).toBe(true);
    expect(parseAnswer(text.slice(second)).body).toEqual({ error: { code: 'ERR_BAD_REQUEST', message: expect.any(String) } });
  });

  test('malformed percent-encoding in the path or the query is 400 ERR_BAD_REQUEST; well-formed is read', async () => {
    for (const path of ['/v1/events/%ZZ', '/v1/events?q=%ZZ', '/v1/events?actor=a%2', '/v1/events?q=x%']) {
      await refused(await get(path), 400, 'ERR_BAD_REQUEST');
    }
    expect((await get('/v1/events?q=%C3%A4rger')).status).toBe(200);
  });

  test('a path parameter over the router limit is 400 ERR_BAD_REQUEST; a 128-character device id is within it', async () => {
    await refused(await get(`/v1/admin/tokens/${'a'.repeat(600)}`, { method: 'DELETE' }), 400, 'ERR_BAD_REQUEST');
    // The id alone is read: the credential then refuses it (read cannot retire), not the router.
    const id = encodeURIComponent('d/'.repeat(64));
    await refused(await get(`/v1/admin/devices/${id}/retire`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"reason":"x"}' }), 403, 'ERR_FORBIDDEN');
  });

  test('a bad media type, a body that is not JSON and a method no route takes keep their codes', async () => {
    const post = (type: string, body: string) => get('/v1/events', { method: 'POST', headers: { 'content-type': type }, body });
    // Read cannot ingest: the credential is refused before the body is read.
    await refused(await post('text/plain', 'x'), 403, 'ERR_FORBIDDEN');
    const ingest = tokens.create(`ingest-${Date.now()}`, 'ingest').token;
    const send = (type: string, body: string) => fetch(`${base}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${ingest}`, 'content-type': type }, body });
    await refused(await send('text/plain', 'x'), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE');
    await refused(await send('application/json', '{x'), 400, 'ERR_MALFORMED_JSON');
    await refused(await get('/v1/events', { method: 'PUT' }), 404, 'ERR_NOT_FOUND');
    expect(store.log.size()).toBe(EVENTS.length);
  });
});

describe('searches that would match everything or nothing', () => {
  test.each([
    ['/v1/events?text=%C3%84rger', 'text'],
    ['/v1/evidence?cursor=x', 'cursor'],
    ['/v1/events/facets?format=ocsf', 'format'],
    ['/v1/events/stream?text=x', 'text'],
    ['/v1/events/stream?since=2h', 'since'],
    ['/v1/events/stream?actor=ada&until=2026-01-01T00:00:00Z', 'until'],
  ])('%s: an unknown parameter is 400 ERR_BAD_REQUEST naming it', async (path, name) => {
    expect(await refused(await get(path), 400, 'ERR_BAD_REQUEST')).toContain(name);
  });

  test.each(['/v1/events', '/v1/evidence', '/v1/events/facets'])('%s refuses another outcome, since after until and a word without letters or digits', async (route) => {
    for (const query of ['outcome=ok', 'since=2h&until=3h', 'q=%E2%82%AC', 'q=init.el%20%F0%9F%98%80', 'q=--']) {
      await refused(await get(`${route}?${query}`), 400, 'ERR_BAD_REQUEST');
    }
    expect((await get(`${route}?outcome=failure&q=%C3%84rger&since=2025-01-01T00:00:00Z&until=2027-01-01T00:00:00Z`)).status).toBe(200);
  });

  test('the parameters the OpenAPI document lists are the ones each route takes', async () => {
    // An empty value means the default, but for these.
    const SAMPLE: Record<string, string> = { limit: '10', format: 'stele', since_size: '3' };
    const doc = openApiDocument() as { paths: Record<string, { get: { parameters: { name: string }[] } }> };
    const takes = async (path: string, names: string[]) => {
      for (const name of names) {
        const res = await get(`${path}?${name}=${SAMPLE[name] ?? ''}`, { signal: AbortSignal.timeout(5000) });
        expect({ path, name, status: res.status }).toEqual({ path, name, status: 200 });
        await res.body?.cancel();
      }
    };
    for (const path of ['/v1/events', '/v1/evidence', '/v1/events/facets', '/v1/events/stream']) await takes(path, doc.paths[path]!.get.parameters.map((p) => p.name));
  });

  test("the console's and Emacs' searches are answered (all of them match p-1)", async () => {
    const params = toSearchParams(parseQuery('actor:ada@example.com action:file.* source:emacs target:/home/ada/p-1 outcome:failure since:400d until:1s ticket:INC-42 Ärger'), 50);
    const page = (await (await get(`/v1/events?${params}`)).json()) as { events: { id: string }[] };
    expect(page.events.map((e) => e.id)).toEqual(['p-1']);
    const facets = new URLSearchParams(params);
    facets.delete('limit');
    facets.set('scan', '100000');
    expect((await get(`/v1/events/facets?${facets}`)).status).toBe(200);
    expect((await get(`/v1/events?${new URLSearchParams([...params, ['format', 'ocsf']])}`)).status).toBe(200);
    const evidence = new URLSearchParams(params);
    evidence.set('limit', '1000');
    expect((await get(`/v1/evidence?${evidence}`)).status).toBe(200);
    const stream = new URLSearchParams(params);
    for (const key of ['since', 'until', 'cursor', 'limit']) stream.delete(key);
    const live = await get(`/v1/events/stream?${stream}`);
    expect(live.status).toBe(200);
    await live.body?.cancel();
    // stele-ui.el's stele-log.
    expect((await get(`/v1/events?limit=200&actor=${encodeURIComponent('ada@example.com')}`)).status).toBe(200);
  });

  test('stele query refuses a word without letters or digits with exit 2', async () => {
    const { code, stdout, stderr } = await stele(['query', '--dir', dir, '--text', '€']);
    expect({ code, stdout, lines: stderr.trimEnd().split('\n').length }).toEqual({ code: 2, stdout: '', lines: 1 });
    expect(stderr).toContain('"€"');
  });
});

test('results are the most recently appended first, whatever the events say of their time', async () => {
  const ids = async (query: string) => ((await (await get(`/v1/events?${query}`)).json()) as { events: { id: string }[] }).events.map((e) => e.id);
  expect(await ids('source=emacs')).toEqual(['p-2', 'p-1', 'p-0']);
  expect(await ids('source=emacs&limit=1')).toEqual(['p-2']);
});
