/** GET /v1/events/facets in-process: counts over the whole search, the cap, ranges, people and tickets, errors. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { initStore, openStore, type Store } from '@stele/store';
import type { EventRecord } from '@stele/log';
import { buildApp } from '../app.js';
import { openTokenStore, type TokenStore } from '../auth/tokenStore.js';
import { resolveConfig } from '../config.js';
import type { FacetsAnswer } from './facets.js';

const COUNT = 2500;
const EPOCH = Date.UTC(2025, 5, 2, 0, 0, 0);
const SOURCES = ['emacs', 'git', 'kubernetes', 'cloudtrail'];
const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin'];

/** Event i: spread over sources, people (alice's git events under her GitHub e-mail), outcomes, privilege and 25 hours. */
function event(i: number): Record<string, unknown> {
  const source = SOURCES[i % 4]!;
  const who = PEOPLE[(i * 7) % 5]!;
  const email = source === 'git' && who === 'alice' ? 'alice@users.noreply.github.com' : `${who}@example.com`;
  return {
    id: `f-${i}`,
    time: new Date(EPOCH + i * 36_000).toISOString(),
    source,
    action: `${source}.${i % 3 === 0 ? 'read' : 'write'}`,
    actor: { id: who, email },
    outcome: i % 11 === 0 ? 'failure' : 'success',
    ...(i % 10 === 0 && { reason: `INC-${i % 30} rollback` }),
    ...(i % 13 === 0 && { details: { privileged: true } }),
  };
}

let root: string;
let store: Store;
let tokens: TokenStore;
let inject: ReturnType<typeof buildApp>['app']['inject'];
let close: () => Promise<void>;
let read: string;
let all: EventRecord[];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'stele-facets-'));
  const dir = join(root, 'data');
  await initStore(dir, 'example.com/facets-test');
  const config = resolveConfig({ flags: { dir, identities: [{ email: 'alice@example.com', git: ['alice@users.noreply.github.com'] }] } });
  store = await openStore(dir);
  tokens = openTokenStore(dir);
  read = tokens.create('reader', 'read').token;
  for (let i = 0; i < COUNT; i += 500) await store.log.append(Array.from({ length: 500 }, (_, k) => event(i + k)));
  all = (await store.log.query({ limit: 1_000_000 })).map((e) => e.record);
  const { app } = buildApp({ store, config, tokens });
  inject = app.inject.bind(app);
  close = () => app.close();
});

afterAll(async () => {
  await close?.();
  await store?.log.close();
  tokens?.close();
  rmSync(root, { recursive: true, force: true });
});

async function facets(qs: string, token = read): Promise<{ status: number; body: FacetsAnswer & { error?: { code: string } } }> {
  const response = await inject({ method: 'GET', url: `/v1/events/facets${qs}`, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.statusCode, body: response.json() };
}

/** The exact counts of one field over records, as the API lists them (most first, ties by value). */
function expected(records: EventRecord[], value: (r: EventRecord) => string): { value: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(value(r), (counts.get(value(r)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([v, count]) => ({ value: v, count }));
}

describe('GET /v1/events/facets', () => {
  test('counts every matching event of the log by source, action, actor, outcome and privileged, and over time', async () => {
    const { status, body } = await facets('?top=100&scan=100000');
    expect(status).toBe(200);
    expect(body.complete).toBe(true);
    expect(body.stoppedBy).toBeUndefined();
    expect(body.counted).toBe(all.length);
    expect(body.facets.source.values).toEqual(expected(all, (r) => r.source));
    expect(body.facets.action.values).toEqual(expected(all, (r) => r.action));
    expect(body.facets.actor.values).toEqual(expected(all, (r) => r.actor.email ?? r.actor.id!));
    expect(body.facets.outcome.values).toEqual(expected(all, (r) => r.outcome));
    expect(body.facets.privileged.values).toEqual(expected(all, (r) => (r.details?.privileged === true ? 'yes' : 'no')));
    expect(body.timeline!.counts.reduce((a, b) => a + b, 0)).toBe(all.length);
    expect(body.timeline!.counts.length).toBeLessThanOrEqual(60);
    expect(body.timeline!.bucketSeconds).toBe(1800); // 25 hours in 60 buckets or fewer: half-hours
    expect(body.oldest).toBe(new Date(EPOCH).toISOString());
    expect(body.newest).toBe(new Date(EPOCH + (COUNT - 1) * 36_000).toISOString());
  });

  test('takes the filters of GET /v1/events and lists the top values with the number of distinct ones', async () => {
    const { body } = await facets('?source=git&outcome=success&top=2');
    const git = all.filter((r) => r.source === 'git' && r.outcome === 'success');
    expect(body.counted).toBe(git.length);
    expect(body.facets.source.values).toEqual([{ value: 'git', count: git.length }]);
    expect(body.facets.actor.values).toEqual(expected(git, (r) => r.actor.email!).slice(0, 2));
    expect(body.facets.actor.distinct).toBe(5);
    const text = await facets('?q=rollback&action=emacs.*');
    expect(text.body.counted).toBe(all.filter((r) => r.reason?.includes('rollback') && r.action.startsWith('emacs.')).length);
  });

  test('stops at scan events, newest first, and says the counts are partial', async () => {
    const { body } = await facets('?scan=1000&top=100');
    expect(body).toMatchObject({ counted: 1000, complete: false, stoppedBy: 'scan', scan: 1000 });
    const newest = [...all].sort((a, b) => b.index - a.index).slice(0, 1000);
    expect(body.facets.source.values).toEqual(expected(newest, (r) => r.source));
    expect(body.oldest).toBe(newest[newest.length - 1]!.time);
    // Exactly as many matches as the cap is complete.
    const failures = all.filter((r) => r.outcome === 'failure').length;
    expect((await facets(`?outcome=failure&scan=${failures}`)).body).toMatchObject({ counted: failures, complete: true });
    expect((await facets(`?outcome=failure&scan=${failures - 1}`)).body).toMatchObject({ counted: failures - 1, complete: false });
  });

  test('the timeline spans the search range, empty buckets included', async () => {
    const since = new Date(EPOCH + 3600_000).toISOString();
    const until = new Date(EPOCH + 3 * 3600_000).toISOString();
    const { body } = await facets(`?since=${since}&until=${until}&buckets=12`);
    expect(body.timeline).toMatchObject({ from: since, to: until, bucketSeconds: 600 });
    expect(body.timeline!.counts).toHaveLength(12);
    const perBucket = new Array<number>(12).fill(0);
    for (const r of all) if (r.time >= since && r.time < until) perBucket[Math.floor((Date.parse(r.time) - Date.parse(since)) / 600_000)]!++;
    expect(body.timeline!.counts).toEqual(perBucket);
    expect(body.timeline!.counts.reduce((a, b) => a + b, 0)).toBe(body.counted);
    expect(body.counted).toBe(all.filter((r) => r.time >= since && r.time < until).length);
    const none = await facets('?since=2030-01-01T00:00:00Z&until=2030-01-02T00:00:00Z');
    expect(none.body.counted).toBe(0);
    expect(none.body.timeline!.counts.every((c) => c === 0)).toBe(true);
    expect(none.body.oldest).toBeUndefined();
  });

  test('expands a person to every identifier and filters by ticket, as the search does', async () => {
    const { body } = await facets('?actor=alice@example.com');
    const alice = all.filter((r) => r.actor.id === 'alice');
    expect(body.counted).toBe(alice.length);
    expect(body.person?.identifiers).toContain('alice@users.noreply.github.com');
    expect(body.facets.actor.values.map((v) => v.value).sort()).toEqual(['alice@example.com', 'alice@users.noreply.github.com']);
    const ticket = await facets('?ticket=INC-20');
    expect(ticket.body.counted).toBe(all.filter((r) => r.reason?.startsWith('INC-20 ')).length);
    expect(ticket.body.counted).toBeGreaterThan(0);
  });

  test('refuses bad parameters and missing credentials with the API codes', async () => {
    for (const qs of ['?scan=0', '?scan=100001', '?scan=1e3', '?top=101', '?buckets=0', '?since=yesterday', '?ticket=two%20words']) {
      const { status, body } = await facets(qs);
      expect(status, qs).toBe(400);
      expect(body.error?.code).toBe('ERR_BAD_REQUEST');
    }
    expect((await facets('', '')).status).toBe(401);
    expect((await facets('', 'stele_wrong')).status).toBe(401);
  });

  test('is described in the OpenAPI document', async () => {
    const doc = (await inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, { get?: { parameters: { name: string }[] } }> };
    expect(doc.paths['/v1/events/facets']!.get!.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['actor', 'since', 'q', 'ticket', 'scan', 'top', 'buckets']));
  });
});
