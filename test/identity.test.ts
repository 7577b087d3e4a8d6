/**
 * Identity against a real OpenID provider on loopback (`oidc-provider`, see
 * oidcProvider.ts): tokens from its device flow and client credentials bind
 * events to people and services; a forged-token matrix where every case is a
 * 401 with its own code and appends nothing; roles from groups; the JWKS
 * fetched once and refetched once for a new kid. The collector runs
 * in-process (`app.inject`); the provider over real sockets.
 */
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { CompactSign, SignJWT, generateKeyPair, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { validateEvent, type EventRecord } from '@stele/log';
import { buildApp, chainHash, openDeviceStore, openTokenStore, resolveConfig, startDeviceTracker, type TokenStore } from '@stele/server';
import { initStore, openStore, type Store } from '@stele/store';
import { AUDIENCE, CLI_CLIENT, SERVICE_CLIENT, deviceTokens, serviceToken, startProvider, type TestProvider } from './oidcProvider.js';

let provider: TestProvider;
let stranger: TestProvider;
let alice: string;
let aliceId: string;
let bob: string;
let carol: string;
let service: string;

interface Harness {
  dir: string;
  store: Store;
  tokens: TokenStore;
  app: FastifyInstance;
  apiToken: string;
}
const harnesses: Harness[] = [];

const issuerConfig = (p: TestProvider) => ({
  name: 'testidp',
  issuer: p.issuer,
  audience: AUDIENCE,
  clientId: CLI_CLIENT,
  scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
  resource: AUDIENCE,
  roles: { admin: ['stele-admins'], read: ['auditors'], ingest: ['*'] },
});

async function harness(keyTiming?: { cooldownMs: number }): Promise<Harness> {
  const dir = join(mkdtempSync(join(tmpdir(), 'stele-identity-')), 'data');
  await initStore(dir, 'example.com/identity');
  const config = resolveConfig({ flags: { dir, oidc: { issuers: [issuerConfig(provider)] } } });
  const store = await openStore(dir);
  const tokens = openTokenStore(dir);
  const { app } = buildApp({ store, config, tokens, ...(keyTiming && { keyTiming }) });
  const h = { dir, store, tokens, app, apiToken: tokens.create('ci', 'admin').token };
  harnesses.push(h);
  return h;
}

beforeAll(async () => {
  provider = await startProvider();
  stranger = await startProvider();
  alice = (await deviceTokens(provider.issuer, 'alice')).access_token;
  aliceId = (await deviceTokens(provider.issuer, 'alice')).id_token!;
  bob = (await deviceTokens(provider.issuer, 'bob')).access_token;
  carol = (await deviceTokens(provider.issuer, 'carol')).access_token;
  service = await serviceToken(provider.issuer);
});

afterAll(async () => {
  for (const h of harnesses) {
    await h.app.close();
    await h.store.log.close();
    h.tokens.close();
    rmSync(join(h.dir, '..'), { recursive: true, force: true });
  }
  await provider?.close();
  await stranger?.close();
});

const event = (extra: Record<string, unknown> = {}) => ({
  source: 'emacs',
  action: 'file.save',
  actor: { id: 'alice', email: 'alice@example.com' },
  target: { type: 'file', id: '/etc/hosts' },
  ...extra,
});

/** The answer to POST /v1/events: entries on 201, error otherwise. */
interface Answer {
  entries: Array<{ id: string; index: number; duplicate?: boolean }>;
  error: { code: string; details?: unknown };
}

async function post(h: Harness, token: string, body: unknown) {
  const response = await h.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  return { status: response.statusCode, json: response.json() as Answer };
}

async function stored(h: Harness, index: number): Promise<EventRecord> {
  return (await h.store.log.entry(index)).record;
}

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token signed with the provider's own key: every claim right unless overridden. */
async function forge(claims: Record<string, unknown>, options: { key?: JWK & { kid: string } } = {}): Promise<string> {
  const jwk = options.key ?? provider.privateJwk;
  const base = { iss: provider.issuer, aud: AUDIENCE, sub: 'alice', iat: now(), exp: now() + 600, email: 'alice@example.com' };
  return new SignJWT({ ...base, ...claims } as Record<string, unknown>)
    .setProtectedHeader({ alg: 'RS256', kid: jwk.kid })
    .sign(await importJWK(jwk, 'RS256'));
}

describe('forged tokens: each is 401 with its own code, and nothing is appended', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
    // One good request first, so the provider's keys are fetched (the wrong-issuer check uses only fetched keys).
    expect((await post(h, alice, event())).status).toBe(201);
  });

  const cases: Array<[string, () => Promise<string>]> = [
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: provider.issuer, aud: AUDIENCE, sub: 'alice', exp: now() + 600 })}.`],
    [
      'HS256 signed with the RSA public key as the secret',
      async () => {
        const { kid, alg: _alg, use: _use, d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = provider.privateJwk;
        const pem = createPublicKey({ key: pub as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
        return new SignJWT({ iss: provider.issuer, aud: AUDIENCE, sub: 'alice', exp: now() + 600 }).setProtectedHeader({ alg: 'HS256', kid }).sign(new TextEncoder().encode(pem as string));
      },
    ],
    ['wrong issuer (signed by the configured key)', () => forge({ iss: 'https://evil.example.com' })],
    ['wrong audience', () => forge({ aud: 'https://another-api.example.com' })],
    ['expired', () => forge({ iat: now() - 7200, exp: now() - 3600 })],
    ['not yet valid', () => forge({ nbf: now() + 3600 })],
    [
      'unknown kid',
      async () => {
        const { privateKey } = await generateKeyPair('RS256', { extractable: true });
        const { exportJWK } = await import('jose');
        return forge({}, { key: { ...(await exportJWK(privateKey)), kid: 'rogue-key' } });
      },
    ],
    [
      'payload altered after signing',
      async () => {
        const [header, payload, signature] = alice.split('.');
        const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
        return `${header}.${b64({ ...claims, sub: 'bob', email: 'bob@example.com' })}.${signature}`;
      },
    ],
    ['a valid token from an issuer that is not configured', async () => (await deviceTokens(stranger.issuer, 'alice')).access_token],
  ];

  const seen = new Map<string, string>();
  for (const [name, make] of cases) {
    test(name, async () => {
      const size = h.store.log.size();
      const { status, json } = await post(h, await make(), event());
      expect(status).toBe(401);
      expect(json.error.code).toMatch(/^ERR_TOKEN_/);
      seen.set(name, json.error.code);
      expect(h.store.log.size()).toBe(size);
    });
  }

  test('the codes are distinct and the expected ones', () => {
    expect(Object.fromEntries(seen)).toEqual({
      'alg none': 'ERR_TOKEN_UNSIGNED',
      'HS256 signed with the RSA public key as the secret': 'ERR_TOKEN_ALG',
      'wrong issuer (signed by the configured key)': 'ERR_TOKEN_ISSUER',
      'wrong audience': 'ERR_TOKEN_AUDIENCE',
      'expired': 'ERR_TOKEN_EXPIRED',
      'not yet valid': 'ERR_TOKEN_NOT_YET_VALID',
      'unknown kid': 'ERR_TOKEN_KID',
      'payload altered after signing': 'ERR_TOKEN_SIGNATURE',
      'a valid token from an issuer that is not configured': 'ERR_TOKEN_ISSUER_UNKNOWN',
    });
    expect(new Set(seen.values()).size).toBe(cases.length);
  });

  test('a JWT-shaped credential that does not parse: ERR_TOKEN_MALFORMED; one without the id claim: ERR_TOKEN_CLAIMS', async () => {
    const size = h.store.log.size();
    expect((await post(h, 'eyJub3Q.anNvbg.c2ln', event())).json.error.code).toBe('ERR_TOKEN_MALFORMED');
    expect((await post(h, await forge({ sub: undefined }), event())).json.error.code).toBe('ERR_TOKEN_CLAIMS');
    // A signature over a non-JWT payload.
    const raw = await new CompactSign(new TextEncoder().encode('"just a string"')).setProtectedHeader({ alg: 'RS256', kid: provider.privateJwk.kid }).sign(await importJWK(provider.privateJwk, 'RS256'));
    expect((await post(h, raw, event())).json.error.code).toBe('ERR_TOKEN_MALFORMED');
    expect(h.store.log.size()).toBe(size);
  });
});

describe('binding events to the token', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });

  test("a token for alice with a body claiming bob: accepted, the actor is alice (verified, idp), bob's claim kept in details", async () => {
    const claim = { id: 'bob', email: 'bob@example.com', name: 'Bob', verified: true };
    const { status, json } = await post(h, alice, event({ actor: claim, details: { mode: 'text-mode' } }));
    expect(status).toBe(201);
    const record = await stored(h, json.entries[0]!.index);
    expect(record.actor).toEqual({ id: 'alice', email: 'alice@example.com', name: 'Alice Liddell', groups: ['engineering', 'stele-admins'], idp: provider.issuer, verified: true });
    expect(record.details).toEqual({ mode: 'text-mode', claimedActor: { ...claim } });
    expect(record.submitter).toEqual({ type: 'oidc', id: 'testidp:alice', name: 'alice@example.com' });
  });

  test('a client that sends exactly the bound actor gets no claimedActor', async () => {
    const actor = { id: 'alice', email: 'alice@example.com', name: 'Alice Liddell', groups: ['engineering', 'stele-admins'], idp: provider.issuer, verified: true };
    const { json } = await post(h, alice, event({ actor }));
    expect((await stored(h, json.entries[0]!.index)).details).toBeUndefined();
  });

  test("an ID token: refused when its audience (the client id) is not configured, accepted when it is", async () => {
    expect((await post(h, aliceId, event())).json.error.code).toBe('ERR_TOKEN_AUDIENCE');
    const dir = join(mkdtempSync(join(tmpdir(), 'stele-identity-')), 'data');
    await initStore(dir, 'example.com/identity-id');
    const store = await openStore(dir);
    const tokens = openTokenStore(dir);
    const config = resolveConfig({ flags: { dir, oidc: { issuers: [{ ...issuerConfig(provider), audience: [AUDIENCE, CLI_CLIENT], loginToken: 'id' }] } } });
    const { app } = buildApp({ store, config, tokens });
    harnesses.push({ dir, store, tokens, app, apiToken: '' });
    const { status, json } = await post({ dir, store, tokens, app, apiToken: '' }, aliceId, event());
    expect(status).toBe(201);
    expect((await store.log.entry(json.entries[0]!.index)).record.actor).toMatchObject({ id: 'alice', verified: true, idp: provider.issuer });
  });

  test("a person's device chain holds although Stele rewrote the actor: prev hashes the event as sent", async () => {
    const devices = await startDeviceTracker({ log: h.store.log, store: openDeviceStore(':memory:') });
    try {
      let prev: string | undefined;
      for (let seq = 1; seq <= 3; seq++) {
        const e = event({ id: `laptop/${seq}`, time: '2026-01-02T03:04:05Z', actor: { id: 'alice-local' }, device: { id: 'laptop', seq, ...(prev && { prev }) } });
        expect((await post(h, alice, e)).status).toBe(201);
        const checked = validateEvent(e);
        if (!checked.ok) throw new Error('invalid');
        prev = chainHash(checked.event as unknown as EventRecord);
      }
      await devices.idle();
      expect(await h.store.log.query({ source: 'stele', action: 'stele.gap', limit: 10 })).toEqual([]);
      expect(devices.list()).toEqual([expect.objectContaining({ id: 'laptop', lastSeq: 3, gaps: 0, user: { id: 'alice', email: 'alice@example.com', idp: provider.issuer, verified: true } })]);
    } finally {
      await devices.close();
    }
  });

  test('a service (client credentials): the actor is the payload, unverified; the submitter is the service', async () => {
    const { status, json } = await post(h, service, event({ actor: { id: 'deploy-bot', verified: true } }));
    expect(status).toBe(201);
    const record = await stored(h, json.entries[0]!.index);
    expect(record.actor).toEqual({ id: 'deploy-bot', verified: false });
    expect(record.details).toEqual({ claimedActor: { id: 'deploy-bot', verified: true } });
    expect(record.submitter).toEqual({ type: 'oidc', id: `testidp:${SERVICE_CLIENT}`, name: SERVICE_CLIENT });
  });

  test('an API token: the actor stays the payload, verified is forced to false', async () => {
    const plain = await post(h, h.apiToken, event({ actor: { id: 'k8s-user' } }));
    expect((await stored(h, plain.json.entries[0]!.index)).actor).toEqual({ id: 'k8s-user', verified: false });
    expect((await stored(h, plain.json.entries[0]!.index)).details).toBeUndefined();
    const claiming = await post(h, h.apiToken, event({ actor: { id: 'k8s-user', verified: true } }));
    const record = await stored(h, claiming.json.entries[0]!.index);
    expect(record.actor).toEqual({ id: 'k8s-user', verified: false });
    expect(record.details).toEqual({ claimedActor: { id: 'k8s-user', verified: true } });
    expect(record.submitter?.type).toBe('token');
  });

  test('a client may not set the collector-owned details keys: 422 store_field, nothing appended', async () => {
    const size = h.store.log.size();
    for (const token of [alice, h.apiToken]) {
      const { status, json } = await post(h, token, [event(), event({ details: { claimedActor: { id: 'x' }, groupsOverage: true } })]);
      expect(status).toBe(422);
      expect(json.error.code).toBe('ERR_EVENT_INVALID');
      expect(json.error.details).toEqual([
        expect.objectContaining({ event: 1, field: 'details.claimedActor', code: 'store_field' }),
        expect.objectContaining({ event: 1, field: 'details.groupsOverage', code: 'store_field' }),
      ]);
    }
    expect(h.store.log.size()).toBe(size);
  });

  test("a person's event with an invalid actor is refused with the schema's errors, never stored with it", async () => {
    const size = h.store.log.size();
    const { status, json } = await post(h, alice, event({ actor: { name: 'no id or email' } }));
    expect(status).toBe(422);
    expect(json.error.details).toEqual([expect.objectContaining({ event: 0, field: 'actor.id', code: 'required' })]);
    expect(h.store.log.size()).toBe(size);
  });

  test('a retry of the same event with the same token is a duplicate', async () => {
    const e = event({ id: 'retry-1', time: '2026-01-02T03:04:05Z', actor: { id: 'bob' } });
    const first = await post(h, alice, e);
    const again = await post(h, alice, e);
    expect(again.json.entries[0]).toEqual({ id: 'retry-1', index: first.json.entries[0]!.index, duplicate: true });
  });
});

describe('roles from groups', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });

  const get = async (token: string, url: string) => (await h.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })).statusCode;

  test('alice (stele-admins) is admin; bob (auditors) reads; carol (no groups) only ingests', async () => {
    expect(await get(alice, '/v1/events')).toBe(200);
    expect(await get(bob, '/v1/events')).toBe(200);
    expect(await get(carol, '/v1/events')).toBe(403);
    expect((await post(h, carol, event())).status).toBe(201);
    expect((await post(h, bob, event())).status).toBe(201);
    expect(await get(bob, '/v1/devices')).toBe(200);
    expect(await get(carol, '/v1/devices')).toBe(403);
  });

  test('whoami names the caller and its roles', async () => {
    const who = async (token: string) => (await h.app.inject({ method: 'GET', url: '/v1/auth/whoami', headers: { authorization: `Bearer ${token}` } })).json();
    expect(await who(alice)).toMatchObject({ type: 'oidc', kind: 'person', subject: 'alice', roles: ['ingest', 'admin'], actor: { email: 'alice@example.com', verified: true } });
    expect(await who(carol)).toMatchObject({ type: 'oidc', kind: 'person', subject: 'carol', roles: ['ingest'] });
    expect(await who(service)).toMatchObject({ type: 'oidc', kind: 'service', clientId: SERVICE_CLIENT });
    expect(await who(h.apiToken)).toMatchObject({ type: 'token', name: 'ci', roles: ['admin'] });
    const none = await h.app.inject({ method: 'GET', url: '/v1/auth/whoami' });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('ERR_AUTH_MISSING');
  });

  test('GET /v1/auth/config, open: the issuer, client id, scopes and the device endpoint', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/v1/auth/config' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      issuers: [
        expect.objectContaining({
          name: 'testidp',
          issuer: provider.issuer,
          clientId: CLI_CLIENT,
          scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
          resource: AUDIENCE,
          token: 'access',
          deviceAuthorizationEndpoint: `${provider.issuer}/device/auth`,
          tokenEndpoint: `${provider.issuer}/token`,
        }),
      ],
    });
  });
});

describe('the JWKS: fetched once, refetched once for an unknown kid, then rate-limited', () => {
  test('with a cooldown, a burst of unknown kids refetches nothing', async () => {
    const h = await harness({ cooldownMs: 3_600_000 });
    const before = provider.jwksFetches();
    expect((await post(h, alice, event())).status).toBe(201);
    expect((await post(h, bob, event())).status).toBe(201);
    expect(provider.jwksFetches() - before).toBe(1);
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const { exportJWK } = await import('jose');
    for (let i = 0; i < 3; i++) {
      const rogue = await forge({}, { key: { ...(await exportJWK(privateKey)), kid: `rogue-${i}` } });
      expect((await post(h, rogue, event())).json.error.code).toBe('ERR_TOKEN_KID');
    }
    expect(provider.jwksFetches() - before).toBe(1);
  });

  test('past the cooldown, each unknown kid refetches exactly once', async () => {
    const h = await harness({ cooldownMs: 0 });
    const before = provider.jwksFetches();
    expect((await post(h, alice, event())).status).toBe(201);
    expect(provider.jwksFetches() - before).toBe(1);
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const { exportJWK } = await import('jose');
    const rogue = await forge({}, { key: { ...(await exportJWK(privateKey)), kid: 'rogue-x' } });
    expect((await post(h, rogue, event())).json.error.code).toBe('ERR_TOKEN_KID');
    expect(provider.jwksFetches() - before).toBe(2);
  });
});
