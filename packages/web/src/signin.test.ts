import { createHash } from 'node:crypto';
import { expect, test } from 'vitest';
import { authorizationUrl, codeChallenge, codeVerifier, redirectUri } from './signin.js';

test('the PKCE verifier is 43 base64url characters and its challenge is RFC 7636 S256', async () => {
  const verifier = codeVerifier();
  expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(codeVerifier()).not.toBe(verifier);
  expect(await codeChallenge(verifier)).toBe(createHash('sha256').update(verifier).digest('base64url'));
});

test('the authorization URL carries the client, redirect, scopes (no offline_access: no refresh token in a browser), state, challenge and resource', () => {
  const url = new URL(
    authorizationUrl({ name: 'idp', issuer: 'https://idp.test', clientId: 'stele-console', scopes: ['openid', 'email', 'offline_access'], resource: 'https://stele.test/api', authorizationEndpoint: 'https://idp.test/auth' }, redirectUri('https://stele.test'), 's1', 'c1'),
  );
  expect(url.origin + url.pathname).toBe('https://idp.test/auth');
  expect(Object.fromEntries(url.searchParams)).toEqual({
    response_type: 'code', client_id: 'stele-console', redirect_uri: 'https://stele.test/', scope: 'openid email', state: 's1', code_challenge: 'c1', code_challenge_method: 'S256', resource: 'https://stele.test/api',
  });
});
