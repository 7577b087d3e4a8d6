/**
 * CloudEvents 1.0 in structured JSON mode, in-process: one event
 * (`application/cloudevents+json`) and a batch
 * (`application/cloudevents-batch+json`), the (source, id) pair as the
 * idempotency key, the Auth Context extension as the actor, and every
 * malformed event a 4xx with a code that appends nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codeOf, startHarness, type Harness } from './sourcesHarness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

const send = (body: unknown, type = 'application/cloudevents+json', token: string | null = h.ingest, headers: Record<string, string> = {}) =>
  h.app.inject({
    method: 'POST',
    url: '/v1/sources/cloudevents',
    headers: { 'content-type': type, ...(token !== null && { authorization: `Bearer ${token}` }), ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });

const deploy = {
  specversion: '1.0',
  type: 'dev.argoproj.Application.Synced',
  source: 'https://argocd.example.com/applications/checkout',
  id: 'A234-1234-1234',
  time: '2025-06-02T12:40:00Z',
  subject: 'checkout@prod',
  datacontenttype: 'application/json',
  authid: 'dave@example.com',
  authtype: 'user',
  reason: 'sync for CHG-9 after review',
  data: { revision: '0d1a26e', health: 'Healthy' },
};

describe('structured mode', () => {
  test('one event: action from type, actor from authid, target from subject, extensions and data kept', async () => {
    const res = await send(deploy, 'application/cloudevents+json; charset=utf-8');
    expect(res.statusCode).toBe(201);
    const [e] = (await h.events({ source: 'cloudevents' })).events;
    expect(e!.action).toBe('dev.argoproj.application.synced');
    expect(e!.actor).toEqual({ id: 'dave@example.com', email: 'dave@example.com', verified: false });
    expect(e!.target).toEqual({ type: 'subject', id: 'checkout@prod' });
    expect(e!.time).toBe('2025-06-02T12:40:00.000Z');
    expect(e!.reason).toBe('sync for CHG-9 after review');
    expect(e!.details).toMatchObject({
      tickets: ['CHG-9'],
      operation: 'dev.argoproj.Application.Synced',
      cloudevents: { id: 'A234-1234-1234', source: deploy.source, data: deploy.data, extensions: { authid: 'dave@example.com', authtype: 'user' } },
    });
  });

  test('a batch; an event whose (source, id) is already in the log is a duplicate', async () => {
    const size = h.size();
    const other = { specversion: '1.0', type: 'com.example.backup.finished', source: '/backup/nightly', id: '42', outcome: 'failure' };
    const res = await send([deploy, other], 'application/cloudevents-batch+json');
    expect(res.statusCode).toBe(201);
    expect(res.json().entries.map((e: { duplicate?: boolean }) => Boolean(e.duplicate))).toEqual([true, false]);
    expect(h.size()).toBe(size + 1);
    const e = (await h.events({ source: 'cloudevents', action: 'com.example.backup.finished' })).events[0]!;
    // Without authid, the producing source is the actor.
    expect(e.actor).toEqual({ id: '/backup/nightly', verified: false });
    expect(e.outcome).toBe('failure');
  });

  test('the same id from another source is another event', async () => {
    const res = await send({ ...deploy, source: 'https://argocd.example.com/applications/payments' });
    expect(res.statusCode).toBe(201);
    expect(res.json().entries[0].duplicate).toBeUndefined();
  });
});

describe('bad CloudEvents: a 4xx with a code, nothing appended', () => {
  const { specversion: _s, ...noVersion } = deploy;
  const { id: _i, ...noId } = deploy;
  const { source: _o, ...noSource } = deploy;
  const { type: _t, ...noType } = deploy;
  const cases: Array<[string, () => ReturnType<typeof send>, number, string]> = [
    ['no credential', () => send(deploy, undefined, null), 401, 'ERR_AUTH_MISSING'],
    ['plain JSON', () => send(deploy, 'application/json'), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['binary mode', () => send('{}', 'application/json', h.ingest, { 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': '/x', 'ce-type': 't' }), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['not JSON', () => send('{"specversion":'), 400, 'ERR_MALFORMED_JSON'],
    ['specversion 0.3', () => send({ ...deploy, id: 'v03', specversion: '0.3' }), 422, 'ERR_PAYLOAD_INVALID'],
    ['no specversion', () => send(noVersion), 422, 'ERR_PAYLOAD_INVALID'],
    ['no id', () => send(noId), 422, 'ERR_PAYLOAD_INVALID'],
    ['no source', () => send(noSource), 422, 'ERR_PAYLOAD_INVALID'],
    ['no type', () => send(noType), 422, 'ERR_PAYLOAD_INVALID'],
    ['an extension name with upper case', () => send({ ...deploy, id: 'ext', TraceParent: 'x' }), 422, 'ERR_PAYLOAD_INVALID'],
    ['data and data_base64 both', () => send({ ...deploy, id: 'both', data_base64: 'aGk=' }), 422, 'ERR_PAYLOAD_INVALID'],
    ['a batch that is not an array', () => send(deploy, 'application/cloudevents-batch+json'), 422, 'ERR_PAYLOAD_INVALID'],
    ['a batch with one bad event after a good one', () => send([{ ...deploy, id: 'fresh' }, noType], 'application/cloudevents-batch+json'), 422, 'ERR_PAYLOAD_INVALID'],
    ['an empty batch', () => send([], 'application/cloudevents-batch+json'), 400, 'ERR_BAD_REQUEST'],
    ['a time that is not RFC 3339', () => send({ ...deploy, id: 'time', time: 'Monday' }), 422, 'ERR_EVENT_INVALID'],
  ];
  test.each(cases)('%s', async (_name, request, status, code) => {
    const size = h.size();
    const res = await request();
    expect(res.statusCode).toBe(status);
    expect(codeOf(res)).toBe(code);
    expect(h.size()).toBe(size);
  });
});
