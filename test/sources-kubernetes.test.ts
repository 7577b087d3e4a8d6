/**
 * The Kubernetes audit webhook, in-process: an `audit.k8s.io/v1` EventList
 * written from the API server's documented schema (a multi-stage exec, a
 * secret read through impersonation, an RBAC change, a forbidden list) maps
 * onto events with the right actor, target, outcome and privilege; a retried
 * batch is recorded once; objects over the size bound become their SHA-256;
 * and every bad payload is a 4xx with a code that appends nothing.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { canonicalBytes, type EventRecord } from '@stele/log';
import { removeTempDirs, stele, steleJson, tempDir } from './helpers.js';
import { codeOf, fixture, startHarness, type Harness } from './sourcesHarness.js';
import { startCollector } from './sourcesProcess.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sources: { maxObjectBytes: 4096 } });
});
afterAll(async () => {
  await h?.close();
  removeTempDirs();
});

const post = (body: string, options: { token?: string | null; cluster?: string } = {}) =>
  h.app.inject({
    method: 'POST',
    url: `/v1/sources/kubernetes${options.cluster === undefined ? '' : `?cluster=${options.cluster}`}`,
    headers: { 'content-type': 'application/json', ...(options.token !== null && { authorization: `Bearer ${options.token ?? h.ingest}` }) },
    payload: body,
  });

const list = () => JSON.parse(fixture('kubernetes-eventlist.json')) as { items: Array<Record<string, unknown>> } & Record<string, unknown>;
const byId = (events: EventRecord[], id: string) => events.find((e) => e.id === id)!;
const EXEC = '7e2d3c1a-5f7b-4c8e-9a0d-1b2c3d4e5f60';
const SECRET = '0a1b2c3d-4e5f-4607-8899-aabbccddeeff';
const RBAC = '9f8e7d6c-5b4a-4392-8170-f6e5d4c3b2a1';
const FORBIDDEN = '11111111-2222-4333-8444-555555555555';

describe('an EventList with an exec, a secret read, an RBAC change and a refusal', () => {
  let events: EventRecord[];
  beforeAll(async () => {
    const res = await post(fixture('kubernetes-eventlist.json'), { cluster: 'prod-eu' });
    expect(res.statusCode).toBe(201);
    expect(res.json().entries).toHaveLength(5);
    events = (await h.events({ source: 'kubernetes' })).events;
  });

  test('one event per (auditID, stage): the exec is recorded at RequestReceived and at ResponseStarted', () => {
    const received = byId(events, `k8s/prod-eu/${EXEC}/RequestReceived`);
    const started = byId(events, `k8s/prod-eu/${EXEC}/ResponseStarted`);
    for (const e of [received, started]) {
      expect(e.action).toBe('k8s.exec');
      expect(e.actor).toEqual({ id: 'alice@example.com', email: 'alice@example.com', groups: ['sre', 'system:authenticated'], verified: false });
      expect(e.target).toEqual({ type: 'pods/exec', id: 'namespaces/prod/pods/web-5d9c7/exec', name: 'web-5d9c7' });
      expect(e.host).toBe('prod-eu');
      expect(e.details).toMatchObject({ privileged: true, privilege: 'exec', operation: 'create', sourceIPs: ['10.0.4.17'], kubernetes: { cluster: 'prod-eu', command: ['sh', '-c', 'cat /etc/passwd'] } });
    }
    expect(received.outcome).toBe('unknown');
    expect(started.outcome).toBe('success');
    expect(started.details!.status).toEqual({ code: 101 });
    expect(started.time).toBe('2025-06-02T12:00:00.140Z');
    expect((started.details!.kubernetes as Record<string, unknown>).annotations).toMatchObject({ 'authorization.k8s.io/decision': 'allow' });
  });

  test('the secret read is privileged, names the impersonated user, and keeps only the digest of the secret', async () => {
    const e = byId(events, `k8s/prod-eu/${SECRET}/ResponseComplete`);
    expect(e.action).toBe('k8s.get');
    expect(e.details).toMatchObject({ privileged: true, privilege: 'secrets', sourceIPs: ['10.0.4.17', '192.168.1.5'] });
    const k = e.details!.kubernetes as Record<string, unknown>;
    expect(k.impersonatedUser).toMatchObject({ username: 'system:serviceaccount:prod:deployer' });
    const secret = list().items[2]!.responseObject;
    const digest = createHash('sha256').update(canonicalBytes(secret)).digest('hex');
    expect(k.responseObject).toEqual({ sha256: digest, bytes: canonicalBytes(secret).length, omitted: true });
    // The secret's bytes are nowhere in the stored entry.
    const stored = await h.store.log.entryById(e.id);
    expect(Buffer.from(stored!.bytes).toString('utf8')).not.toContain('aHVudGVyMg==');
  });

  test('the RBAC change is privileged and carries the ticket its object names', () => {
    const e = byId(events, `k8s/prod-eu/${RBAC}/ResponseComplete`);
    expect(e.action).toBe('k8s.create');
    expect(e.actor).toMatchObject({ id: 'oidc:bob@example.com', email: 'bob@example.com' });
    expect(e.target).toMatchObject({ type: 'rolebindings', id: 'rbac.authorization.k8s.io/namespaces/prod/rolebindings/bob-admin' });
    expect(e.details).toMatchObject({ privileged: true, privilege: 'rbac', tickets: ['OPS-77'], status: { code: 201 } });
  });

  test('a refused request is a failure and not privileged', () => {
    const e = byId(events, `k8s/prod-eu/${FORBIDDEN}/ResponseComplete`);
    expect(e.outcome).toBe('failure');
    expect(e.details!.privileged).toBeUndefined();
    expect(e.details!.status).toMatchObject({ code: 403, reason: 'Forbidden' });
  });

  test('the API server retrying the batch appends nothing', async () => {
    const size = h.size();
    const res = await post(fixture('kubernetes-eventlist.json'), { cluster: 'prod-eu' });
    expect(res.statusCode).toBe(201);
    expect(res.json().entries.every((e: { duplicate?: boolean }) => e.duplicate)).toBe(true);
    expect(h.size()).toBe(size);
  });

  test('exactly the exec stages, the secret read and the RBAC change are privileged', async () => {
    const all = (await h.events({ source: 'kubernetes' })).events.filter((e) => e.details?.privileged === true);
    expect(all.map((e) => e.details!.privilege).sort()).toEqual(['exec', 'exec', 'rbac', 'secrets']);
  });
});

describe('the size bound', () => {
  test('objects over sources.maxObjectBytes become their digest; a giant event still fits in one entry', async () => {
    const l = list();
    const item = { ...l.items[3]!, auditID: 'big-0001', requestObject: { kind: 'ConfigMap', data: { blob: 'x'.repeat(200_000) } } };
    // 64 annotations of 4,000 characters: far over the entry bound even after the objects are hashed.
    item.annotations = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`example.com/a${i}`, 'y'.repeat(4000)]));
    const res = await post(JSON.stringify({ ...l, items: [item] }));
    expect(res.statusCode).toBe(201);
    const stored = await h.store.log.entryById('k8s/big-0001/ResponseComplete');
    expect(stored!.bytes.length).toBeLessThanOrEqual(65_535);
    const k = stored!.record.details!.kubernetes as Record<string, unknown>;
    expect(k.requestObject).toMatchObject({ omitted: true, bytes: canonicalBytes(item.requestObject).length });
    expect(stored!.record.details!.truncated).toContain('kubernetes.annotations');
  });
});

describe('bad payloads: a 4xx with a code, and nothing appended', () => {
  const bad: Array<[string, () => Promise<{ statusCode: number; json(): unknown }>, number, string]> = [
    ['no credential', () => post(fixture('kubernetes-eventlist.json'), { token: null }), 401, 'ERR_AUTH_MISSING'],
    ['an unknown token', () => post(fixture('kubernetes-eventlist.json'), { token: 'stele_nope_nope' }), 401, 'ERR_AUTH_INVALID'],
    ['a read token', () => post(fixture('kubernetes-eventlist.json'), { token: h.read }), 403, 'ERR_FORBIDDEN'],
    ['not JSON', () => post('{"kind":"EventList",'), 400, 'ERR_MALFORMED_JSON'],
    ['an empty body', () => post(''), 400, 'ERR_MALFORMED_JSON'],
    ['not an EventList', () => post(JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1' })), 422, 'ERR_PAYLOAD_INVALID'],
    ['another API version', () => post(JSON.stringify({ ...list(), apiVersion: 'audit.k8s.io/v1beta1' })), 422, 'ERR_PAYLOAD_INVALID'],
    ['no items', () => post(JSON.stringify({ ...list(), items: [] })), 400, 'ERR_BAD_REQUEST'],
    ['a bad cluster name', () => post(fixture('kubernetes-eventlist.json'), { cluster: 'Prod%20EU' }), 400, 'ERR_BAD_REQUEST'],
    ['one good item and one without auditID', () => {
      const l = list();
      const { auditID: _drop, ...rest } = l.items[4]!;
      return post(JSON.stringify({ ...l, items: [{ ...l.items[0], auditID: 'fresh-1' }, rest] }));
    }, 422, 'ERR_PAYLOAD_INVALID'],
    ['a stage Kubernetes does not have', () => post(JSON.stringify({ ...list(), items: [{ ...list().items[0], auditID: 'fresh-2', stage: 'Done' }] })), 422, 'ERR_PAYLOAD_INVALID'],
    ['a timestamp that is not RFC 3339', () => post(JSON.stringify({ ...list(), items: [{ ...list().items[0], auditID: 'fresh-3', stageTimestamp: '2025-06-02 12:00:00' }] })), 422, 'ERR_EVENT_INVALID'],
    ['a user without a name', () => post(JSON.stringify({ ...list(), items: [{ ...list().items[0], auditID: 'fresh-4', user: { groups: ['x'] } }] })), 422, 'ERR_PAYLOAD_INVALID'],
  ];
  test.each(bad)('%s', async (_name, send, status, code) => {
    const size = h.size();
    const res = await send();
    expect(res.statusCode).toBe(status);
    expect(codeOf(res as never)).toBe(code);
    expect(h.size()).toBe(size);
  });

  test('a payload problem names the item and the field', async () => {
    const l = list();
    const { auditID: _drop, ...rest } = l.items[4]!;
    const res = await post(JSON.stringify({ ...l, items: [l.items[0], rest] }));
    expect((res.json() as { error: { details: unknown } }).error.details).toEqual([{ item: 1, field: 'auditID', message: expect.any(String) }]);
  });
});

describe('stele kube-webhook-config', () => {
  test('prints a kubeconfig whose server and token a real collector accepts the EventList from', async () => {
    const dir = join(tempDir('kube'), 'data');
    const collector = await startCollector(dir);
    try {
      const printed = await steleJson<{ kind: string; clusters: Array<{ cluster: { server: string } }>; users: Array<{ user: { token: string } }>; 'current-context': string }>(
        ['kube-webhook-config', '--server', collector.url, '--cluster', 'prod-eu', '--dir', dir, '--json'],
      );
      expect(printed.code).toBe(0);
      expect(printed.json).toMatchObject({ apiVersion: 'v1', kind: 'Config', 'current-context': 'stele' });
      const server = printed.json.clusters[0]!.cluster.server;
      const token = printed.json.users[0]!.user.token;
      expect(server).toBe(`${collector.url}/v1/sources/kubernetes?cluster=prod-eu`);
      const res = await fetch(server, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: fixture('kubernetes-eventlist.json') });
      expect(res.status).toBe(201);
      // The token is an ingest token, created in the log's own audit trail.
      const who = await fetch(`${collector.url}/v1/auth/whoami`, { headers: { authorization: `Bearer ${token}` } });
      expect(await who.json()).toMatchObject({ type: 'token', name: 'kube-audit-prod-eu', roles: ['ingest'] });

      const yaml = await stele(['kube-webhook-config', '--server', collector.url, '--token-file', join(dir, 'admin.token')]);
      expect(yaml.code).toBe(0);
      expect(yaml.stdout).toContain(`server: ${JSON.stringify(`${collector.url}/v1/sources/kubernetes`)}`);
      expect(yaml.stdout).toContain(`token: ${JSON.stringify(collector.adminToken)}`);
    } finally {
      await collector.stop();
    }
  });

  test('without a server, or a token and a data directory, it exits 2', async () => {
    expect((await stele(['kube-webhook-config'])).code).toBe(2);
    expect((await stele(['kube-webhook-config', '--server', 'http://127.0.0.1:8080', '--dir', join(tempDir('kube-none'), 'none')])).code).toBe(2);
    expect((await stele(['kube-webhook-config', '--server', 'http://127.0.0.1:8080', '--cluster', 'Bad Name', '--token-file', '/dev/null'])).code).toBe(2);
  });
});
