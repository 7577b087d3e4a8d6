/**
 * The guard's reuse of verified credentials: an OIDC token that verified is
 * not verified again within its window, never past its `exp`, and a token
 * that failed is checked every time; an API token revoked by another
 * connection to auth.db (as `stele token revoke` does) is refused on the
 * next turn of the event loop. Against a real issuer on loopback and a real
 * auth.db.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterEach, describe, expect, test } from 'vitest';
import { requireScope, type Principal } from './guard.js';
import { parseIssuers } from './issuer.js';
import { createOidcVerifier, type OidcVerifier } from './oidc.js';
import { openTokenStore } from './tokenStore.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const done of cleanup.splice(0)) await done();
});

/** Runs the guard's hook on a request carrying `token`: the principal, or the error's code. */
async function guarded(hook: ReturnType<typeof requireScope>, token: string): Promise<Principal | string> {
  const request = { headers: { authorization: `Bearer ${token}` } } as unknown as FastifyRequest;
  try {
    await hook(request, {} as FastifyReply);
    return request.principal!;
  } catch (err) {
    return (err as { code: string }).code;
  }
}

async function issuer() {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  let url = '';
  const server: Server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/keys` }));
    if (req.url === '/keys') return res.end(JSON.stringify({ keys: [jwk] }));
    res.writeHead(404).end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanup.push(() => new Promise((r) => server.close(r)));
  const verifier = createOidcVerifier(parseIssuers([{ issuer: url, audience: 'stele', algorithms: ['ES256'] }]));
  let verified = 0;
  const counting: OidcVerifier = { ...verifier, verify: (token) => (verified++, verifier.verify(token)) };
  const sign = (exp: number, sub = 'ada') => new SignJWT({ sub }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(url).setAudience('stele').setExpirationTime(exp).sign(privateKey);
  return { oidc: counting, sign, verifications: () => verified };
}

describe('OIDC tokens', () => {
  test('a verified token is used again without a second verification', async () => {
    const idp = await issuer();
    const [ingest, read] = [requireScope({ tokens: undefined, oidc: idp.oidc }, 'ingest'), requireScope({ tokens: undefined, oidc: idp.oidc }, 'read')];
    const token = await idp.sign(Math.floor(Date.now() / 1000) + 300);
    const first = await guarded(ingest, token);
    expect(first).toMatchObject({ kind: 'oidc', identity: { subject: 'ada' } });
    expect(await guarded(ingest, token)).toEqual(first);
    expect(await guarded(read, token)).toBe('ERR_FORBIDDEN'); // the scope is still checked each time
    expect(idp.verifications()).toBe(1);
  });

  test('a token past its exp (accepted within the clock skew) is verified every time', async () => {
    const idp = await issuer();
    const ingest = requireScope({ tokens: undefined, oidc: idp.oidc }, 'ingest');
    const token = await idp.sign(Math.floor(Date.now() / 1000) - 5);
    expect(await guarded(ingest, token)).toMatchObject({ kind: 'oidc' });
    expect(await guarded(ingest, token)).toMatchObject({ kind: 'oidc' });
    expect(idp.verifications()).toBe(2);
  });

  test('a token that failed is checked again each time', async () => {
    const idp = await issuer();
    const ingest = requireScope({ tokens: undefined, oidc: idp.oidc }, 'ingest');
    const good = await idp.sign(Math.floor(Date.now() / 1000) + 300);
    const forged = `${good.slice(0, good.lastIndexOf('.'))}.${'A'.repeat(86)}`;
    expect(await guarded(ingest, forged)).toBe('ERR_TOKEN_SIGNATURE');
    expect(await guarded(ingest, forged)).toBe('ERR_TOKEN_SIGNATURE');
    expect(idp.verifications()).toBe(2);
  });
});

describe('API tokens', () => {
  test('revoked through another connection to auth.db: refused from the next turn of the event loop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stele-guard-'));
    const [served, cli] = [openTokenStore(dir), openTokenStore(dir)];
    cleanup.push(() => (served.close(), cli.close(), rmSync(dir, { recursive: true, force: true })));
    const ingest = requireScope({ tokens: served, oidc: undefined }, 'ingest');
    const { token } = cli.create('ci', 'ingest');
    expect(await guarded(ingest, token)).toMatchObject({ kind: 'token', token: { name: 'ci' } });
    expect(await guarded(ingest, token)).toMatchObject({ kind: 'token' });
    cli.revoke('ci');
    await new Promise((r) => setImmediate(r));
    expect(await guarded(ingest, token)).toBe('ERR_AUTH_INVALID');
  });

  test('revoked through the collector itself: refused at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stele-guard-'));
    const served = openTokenStore(dir);
    cleanup.push(() => (served.close(), rmSync(dir, { recursive: true, force: true })));
    const ingest = requireScope({ tokens: served, oidc: undefined }, 'ingest');
    const { token } = served.create('ci', 'ingest');
    expect(await guarded(ingest, token)).toMatchObject({ kind: 'token' });
    served.revoke('ci');
    expect(await guarded(ingest, token)).toBe('ERR_AUTH_INVALID');
  });
});
