/** The admin token routes in-process: 401 without, 403 with a read token, 201 and a self-audit event with admin. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { initStore, openStore, type Store } from '@stele/store';
import { buildApp } from '../app.js';
import { openTokenStore, type TokenStore } from '../auth/tokenStore.js';
import { resolveConfig } from '../config.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function start(): Promise<{ store: Store; tokens: TokenStore; inject: ReturnType<typeof buildApp>['app']['inject']; admin: string; read: string }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'stele-admin-')), 'data');
  await initStore(dir, 'example.com/admin-test');
  const config = resolveConfig({ flags: { dir } });
  const store = await openStore(dir);
  const tokens = openTokenStore(dir);
  const admin = tokens.create('root', 'admin').token;
  const read = tokens.create('reader', 'read').token;
  const { app } = buildApp({ store, config, tokens });
  cleanup.push(async () => {
    await app.close();
    await store.log.close().catch(() => undefined);
    tokens.close();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });
  return { store, tokens, inject: app.inject.bind(app), admin, read };
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

test('the admin token routes need a credential and scope admin', async () => {
  const h = await start();
  expect((await h.inject({ method: 'GET', url: '/v1/admin/tokens' })).statusCode).toBe(401);
  expect((await h.inject({ method: 'POST', url: '/v1/admin/tokens', payload: { name: 'x', scope: 'read' } })).statusCode).toBe(401);
  const forbidden = await h.inject({ method: 'POST', url: '/v1/admin/tokens', headers: bearer(h.read), payload: { name: 'x', scope: 'read' } });
  expect(forbidden.statusCode).toBe(403);
  expect(forbidden.json().error.code).toBe('ERR_FORBIDDEN');
  expect((await h.inject({ method: 'DELETE', url: '/v1/admin/tokens/abc', headers: bearer(h.read) })).statusCode).toBe(403);
  expect(h.tokens.list()).toHaveLength(2);
});

test('create and revoke answer 201 and 200, work at once, and are recorded in the log with the caller as actor', async () => {
  const h = await start();
  const created = await h.inject({ method: 'POST', url: '/v1/admin/tokens', headers: bearer(h.admin), payload: { name: 'ci', scope: 'ingest' } });
  expect(created.statusCode).toBe(201);
  const { token, record } = created.json() as { token: string; record: { id: string; name: string; scope: string } };
  expect(record).toMatchObject({ name: 'ci', scope: 'ingest', revoked: null });
  expect(h.tokens.authenticate(token)?.id).toBe(record.id);

  const list = await h.inject({ method: 'GET', url: '/v1/admin/tokens', headers: bearer(h.admin) });
  expect(list.statusCode).toBe(200);
  expect(list.body).not.toContain(token);
  expect((list.json() as { tokens: { name: string }[] }).tokens.map((t) => t.name)).toEqual(['root', 'reader', 'ci']);

  const revoked = await h.inject({ method: 'DELETE', url: `/v1/admin/tokens/${record.id}`, headers: bearer(h.admin) });
  expect(revoked.statusCode).toBe(200);
  expect(h.tokens.authenticate(token)).toBeUndefined();
  expect((await h.inject({ method: 'DELETE', url: `/v1/admin/tokens/${record.id}`, headers: bearer(h.admin) })).statusCode).toBe(404);

  const [create] = await h.store.log.query({ source: 'stele', action: 'token.create', limit: 1 });
  const [revoke] = await h.store.log.query({ source: 'stele', action: 'token.revoke', limit: 1 });
  for (const entry of [create, revoke]) {
    expect(entry?.record).toMatchObject({ actor: { id: 'token:root' }, target: { type: 'token', id: record.id, name: 'ci' }, details: { scope: 'ingest' } });
    // Named as every record names its credential (docs/API.md).
    expect(entry?.record.submitter).toEqual({ type: 'token', id: h.tokens.list().find((t) => t.name === 'root')!.id, name: 'root' });
  }
});

test('a malformed create is a 400 and records nothing', async () => {
  const h = await start();
  const bad = await h.inject({ method: 'POST', url: '/v1/admin/tokens', headers: bearer(h.admin), payload: { name: 'has space', scope: 'read' } });
  expect(bad.statusCode).toBe(400);
  expect((await h.inject({ method: 'POST', url: '/v1/admin/tokens', headers: bearer(h.admin), payload: { name: 'ok', scope: 'root' } })).statusCode).toBe(400);
  expect(await h.store.log.query({ source: 'stele', action: 'token.create', limit: 1 })).toHaveLength(0);
});

test('a create with the name of a live token is a 409 ERR_TOKEN_EXISTS naming it, and records nothing', async () => {
  const h = await start();
  const taken = await h.inject({ method: 'POST', url: '/v1/admin/tokens', headers: bearer(h.admin), payload: { name: 'reader', scope: 'ingest' } });
  expect(taken.statusCode).toBe(409);
  const reader = h.tokens.list().find((t) => t.name === 'reader')!;
  expect(taken.json()).toEqual({ error: { code: 'ERR_TOKEN_EXISTS', message: `a live token is already named reader (id ${reader.id}): revoke it first, or choose another name`, details: { id: reader.id } } });
  expect(h.tokens.list()).toHaveLength(2);
  expect(await h.store.log.query({ source: 'stele', action: 'token.create', limit: 1 })).toHaveLength(0);
});
