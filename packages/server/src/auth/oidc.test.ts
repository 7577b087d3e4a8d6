/**
 * Key rotation against a JWKS server whose keys the test changes: a new kid
 * is fetched once, a burst of unknown kids within the cooldown fetches
 * nothing, and an issuer that cannot be reached is a 503, not a 401.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterEach, describe, expect, test } from 'vitest';
import { parseIssuers } from './issuer.js';
import { createOidcVerifier } from './oidc.js';

interface Idp {
  issuer: string;
  keys: JWK[];
  jwksFetches: number;
  server: Server;
}
const idps: Idp[] = [];
afterEach(async () => {
  for (const idp of idps.splice(0)) await new Promise((r) => idp.server.close(r));
});

async function startIdp(): Promise<Idp> {
  const idp = { issuer: '', keys: [] as JWK[], jwksFetches: 0, server: undefined as unknown as Server };
  idp.server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer: idp.issuer, jwks_uri: `${idp.issuer}/keys` }));
    if (req.url === '/keys') {
      idp.jwksFetches++;
      return res.end(JSON.stringify({ keys: idp.keys }));
    }
    res.writeHead(404).end('{}');
  });
  await new Promise<void>((r) => idp.server.listen(0, '127.0.0.1', r));
  idp.issuer = `http://127.0.0.1:${(idp.server.address() as AddressInfo).port}`;
  idps.push(idp);
  return idp;
}

async function keyPair(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

const sign = (issuer: string, key: Awaited<ReturnType<typeof keyPair>>) =>
  new SignJWT({ sub: 'ada', email: 'ada@example.com' }).setProtectedHeader({ alg: 'ES256', kid: key.kid }).setIssuer(issuer).setAudience('stele').setExpirationTime('5m').sign(key.privateKey);

const codeOf = async (p: Promise<unknown>) => p.then(() => 'ok', (err: { code?: string }) => err.code);

describe('issuer keys', () => {
  test('rotation: a token with the new kid is accepted after exactly one refetch', async () => {
    const idp = await startIdp();
    const [k1, k2] = [await keyPair('2026-01'), await keyPair('2026-02')];
    idp.keys = [k1.jwk];
    const verifier = createOidcVerifier(parseIssuers([{ issuer: idp.issuer, audience: 'stele', algorithms: ['ES256'] }]), { cooldownMs: 0 });
    expect((await verifier.verify(await sign(idp.issuer, k1))).subject).toBe('ada');
    expect((await verifier.verify(await sign(idp.issuer, k1))).subject).toBe('ada');
    expect(idp.jwksFetches).toBe(1);
    idp.keys = [k1.jwk, k2.jwk]; // the IdP rotates
    expect((await verifier.verify(await sign(idp.issuer, k2))).subject).toBe('ada');
    expect(idp.jwksFetches).toBe(2);
    expect((await verifier.verify(await sign(idp.issuer, k1))).subject).toBe('ada');
    expect(idp.jwksFetches).toBe(2);
  });

  test('within the cooldown a new kid is not fetched: ERR_TOKEN_KID without a request', async () => {
    const idp = await startIdp();
    const [k1, k2] = [await keyPair('a'), await keyPair('b')];
    idp.keys = [k1.jwk];
    const verifier = createOidcVerifier(parseIssuers([{ issuer: idp.issuer, audience: 'stele', algorithms: ['ES256'] }]), { cooldownMs: 3_600_000 });
    await verifier.verify(await sign(idp.issuer, k1));
    idp.keys = [k1.jwk, k2.jwk];
    expect(await codeOf(verifier.verify(await sign(idp.issuer, k2)))).toBe('ERR_TOKEN_KID');
    expect(idp.jwksFetches).toBe(1);
  });

  test('an issuer that cannot be reached: 503 ERR_IDP_UNAVAILABLE, not a 401', async () => {
    const idp = await startIdp();
    const k1 = await keyPair('a');
    idp.keys = [k1.jwk];
    const token = await sign(idp.issuer, k1);
    await new Promise((r) => idp.server.close(r));
    const verifier = createOidcVerifier(parseIssuers([{ issuer: idp.issuer, audience: 'stele', algorithms: ['ES256'] }]));
    const err = await verifier.verify(token).catch((e: { status: number; code: string }) => e);
    expect(err).toMatchObject({ status: 503, code: 'ERR_IDP_UNAVAILABLE' });
    idps.splice(idps.indexOf(idp), 1);
  });
});
