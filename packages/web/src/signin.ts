/**
 * Signing in with the identity provider: the authorization code flow with
 * PKCE (S256) as a public client. The console redirects to the provider with
 * `redirect_uri` = the console's own `/` (the provider sends back
 * `/?code=...&state=...`), then exchanges the code at the provider's token
 * endpoint from the browser (the console's CSP allows the issuers' origins in
 * connect-src for that one request; the provider must allow the console's
 * origin by CORS there). The access token lives in sessionStorage: gone when
 * the tab closes, never in localStorage, and no refresh token is kept.
 */

/** One issuer as `GET /v1/auth/config` describes it. */
export interface IssuerConfig {
  name: string;
  issuer: string;
  clientId: string;
  scopes: string[];
  resource?: string;
  /** Which token the collector takes from this issuer: the access token (default) or the ID token (Google). */
  token?: 'access' | 'id';
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
}

const SESSION_KEY = 'stele.oidc.session';
const PENDING_KEY = 'stele.oidc.pending';

/** A signed-in person's session in this tab: the access token, its issuer's name, and when it expires. */
export interface Session {
  accessToken: string;
  issuer: string;
  /** Epoch milliseconds; the token is not offered after this. */
  expires: number;
}

/** The signed-in person's session, if any and not expired. */
export const session = {
  get: (): Session | null => {
    const value = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    return value && value.expires > Date.now() ? value : null;
  },
  /** True when a session was there and has expired (the console then asks to sign in again). */
  expired: (): boolean => sessionStorage.getItem(SESSION_KEY) !== null && session.get() === null,
  set: (value: Session): void => sessionStorage.setItem(SESSION_KEY, JSON.stringify(value)),
  clear: (): void => sessionStorage.removeItem(SESSION_KEY),
};

/** The signed-in person's access token, if any. */
export const oidcToken = {
  get: (): string | null => session.get()?.accessToken ?? null,
  clear: (): void => session.clear(),
};

/**
 * The scopes the console asks for: the issuer's, less `offline_access`. The
 * console keeps no refresh token; when the access token expires the person
 * signs in again, which the IdP's own session usually makes one redirect.
 */
export const consoleScopes = (issuer: IssuerConfig): string[] => issuer.scopes.filter((s) => s !== 'offline_access');

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
  url.searchParams.set('scope', consoleScopes(issuer).join(' '));
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
  // RFC 9207: a provider that names itself must be the one this tab went to (no mix-up between issuers).
  if (params.has('iss') && params.get('iss') !== pending.issuer.issuer) throw new Error(`the sign-in answer came from ${params.get('iss')}, not ${pending.issuer.issuer}: sign in again`);
  const body = new URLSearchParams({ grant_type: 'authorization_code', code: params.get('code')!, redirect_uri: pending.redirect, client_id: pending.issuer.clientId, code_verifier: pending.verifier });
  if (pending.issuer.resource !== undefined) body.set('resource', pending.issuer.resource);
  const response = await fetch(pending.issuer.tokenEndpoint ?? `${pending.issuer.issuer.replace(/\/$/, '')}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const tokens = (await response.json().catch(() => ({}))) as { access_token?: string; id_token?: string; expires_in?: number; error?: string; error_description?: string };
  if (!response.ok) throw new Error(`the token exchange failed: ${tokens.error ?? response.status}${tokens.error_description ? ` (${tokens.error_description})` : ''}`);
  const accessToken = pending.issuer.token === 'id' ? tokens.id_token : tokens.access_token;
  if (!accessToken) throw new Error(`the token exchange gave no ${pending.issuer.token === 'id' ? 'ID' : 'access'} token`);
  // Without expires_in the collector's 401 is what tells the console the token has expired.
  const expires = Date.now() + (typeof tokens.expires_in === 'number' && tokens.expires_in > 0 ? tokens.expires_in * 1000 : 24 * 3600_000);
  session.set({ accessToken, issuer: pending.issuer.name, expires });
  return true;
}
