/**
 * Signing in with the identity provider: the authorization code flow with
 * PKCE (S256) as a public client. The console redirects to the provider with
 * `redirect_uri` = the console's own `/` (the provider sends back
 * `/?code=...&state=...`), then exchanges the code at the provider's token
 * endpoint from the browser (the console's CSP allows the issuers' origins in
 * connect-src for that one request). The access token lives in
 * sessionStorage: gone when the tab closes, never in localStorage.
 */

/** One issuer as `GET /v1/auth/config` describes it. */
export interface IssuerConfig {
  name: string;
  issuer: string;
  clientId: string;
  scopes: string[];
  resource?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
}

const ACCESS_KEY = 'stele.oidc.access';
const PENDING_KEY = 'stele.oidc.pending';

/** The signed-in person's access token, if any. */
export const oidcToken = {
  get: (): string | null => sessionStorage.getItem(ACCESS_KEY),
  set: (value: string): void => sessionStorage.setItem(ACCESS_KEY, value),
  clear: (): void => sessionStorage.removeItem(ACCESS_KEY),
};

const b64url = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** A random PKCE code verifier (43 characters of base64url, 256 bits). */
export function codeVerifier(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The S256 code challenge of a verifier (RFC 7636 §4.2). */
export async function codeChallenge(verifier: string): Promise<string> {
  return b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

/** Where the provider sends the browser back: the console's own page. */
export const redirectUri = (origin: string): string => `${origin}/`;

/** The authorization request's URL. */
export function authorizationUrl(issuer: IssuerConfig, redirect: string, state: string, challenge: string): string {
  const url = new URL(issuer.authorizationEndpoint ?? `${issuer.issuer.replace(/\/$/, '')}/authorize`);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', issuer.clientId);
  url.searchParams.set('redirect_uri', redirect);
  url.searchParams.set('scope', issuer.scopes.join(' '));
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  if (issuer.resource !== undefined) url.searchParams.set('resource', issuer.resource);
  return url.href;
}

/** Starts signing in: remembers the verifier and state for this tab and goes to the provider. */
export async function startSignIn(issuer: IssuerConfig): Promise<void> {
  const verifier = codeVerifier();
  const state = codeVerifier();
  const redirect = redirectUri(location.origin);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, redirect, issuer, hash: location.hash }));
  location.assign(authorizationUrl(issuer, redirect, state, await codeChallenge(verifier)));
}

/**
 * Finishes signing in when the page was opened by the provider's redirect
 * (`?code=&state=` or `?error=`): checks the state, exchanges the code with
 * the verifier, keeps the access token, and cleans the URL. Resolves false
 * when the page is no callback.
 */
export async function finishSignIn(): Promise<boolean> {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return false;
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null') as { verifier: string; state: string; redirect: string; issuer: IssuerConfig; hash: string } | null;
  sessionStorage.removeItem(PENDING_KEY);
  history.replaceState(null, '', `/${pending?.hash ?? ''}`);
  if (params.has('error')) throw new Error(`the identity provider refused: ${params.get('error')}${params.get('error_description') ? ` (${params.get('error_description')})` : ''}`);
  if (!pending || params.get('state') !== pending.state) throw new Error('the sign-in answer does not belong to this tab (state mismatch): sign in again');
  const body = new URLSearchParams({ grant_type: 'authorization_code', code: params.get('code')!, redirect_uri: pending.redirect, client_id: pending.issuer.clientId, code_verifier: pending.verifier });
  if (pending.issuer.resource !== undefined) body.set('resource', pending.issuer.resource);
  const response = await fetch(pending.issuer.tokenEndpoint ?? `${pending.issuer.issuer.replace(/\/$/, '')}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const tokens = (await response.json().catch(() => ({}))) as { access_token?: string; error?: string; error_description?: string };
  if (!response.ok || !tokens.access_token) throw new Error(`the token exchange failed: ${tokens.error ?? response.status}${tokens.error_description ? ` (${tokens.error_description})` : ''}`);
  oidcToken.set(tokens.access_token);
  return true;
}
