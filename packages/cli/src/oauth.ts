import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The OAuth 2.0 client side of `stele login`: discovery, the device
 * authorization grant (RFC 8628), the authorization code grant with PKCE
 * (RFC 7636) and a loopback redirect (RFC 8252), refresh and revocation.
 * Everything an identity provider answers is checked before use.
 */

/** A failure talking to the IdP or the collector; `exit` is the command's exit code. */
export class RemoteError extends Error {
  readonly code: string;
  constructor(code: string, message: string, readonly exit = 1) {
    super(message);
    this.name = 'RemoteError';
    this.code = code;
  }
}

/** Token endpoint answers (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
  expires_in?: number;
  token_type?: string;
}

/** Endpoints of an issuer. */
export interface Endpoints {
  token: string;
  deviceAuthorization?: string;
  authorization?: string;
  revocation?: string;
}

async function json(response: Response, what: string): Promise<Record<string, unknown>> {
  try {
    return (await response.json()) as Record<string, unknown>;
  } catch {
    throw new RemoteError('ERR_REMOTE', `${what} answered ${response.status} without JSON`);
  }
}

async function call(url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new RemoteError('ERR_UNREACHABLE', `cannot reach ${what} at ${url}: ${(err as Error).cause ? String((err as Error & { cause: Error }).cause.message) : (err as Error).message}`);
  }
}

const formPost = (fields: Record<string, string | undefined>): RequestInit => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) body.set(k, v);
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: body.toString() };
};

/** The issuer's endpoints from its discovery document. */
export async function discover(issuer: string): Promise<Endpoints> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await call(url, { headers: { accept: 'application/json' } }, 'the identity provider');
  if (!response.ok) throw new RemoteError('ERR_DISCOVERY', `${url} answered ${response.status}`);
  const meta = await json(response, url);
  if (meta.issuer !== issuer || typeof meta.token_endpoint !== 'string') throw new RemoteError('ERR_DISCOVERY', `${url} is not the discovery document of ${issuer}`);
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const endpoints: Endpoints = { token: meta.token_endpoint };
  if (text(meta.device_authorization_endpoint)) endpoints.deviceAuthorization = text(meta.device_authorization_endpoint)!;
  if (text(meta.authorization_endpoint)) endpoints.authorization = text(meta.authorization_endpoint)!;
  if (text(meta.revocation_endpoint)) endpoints.revocation = text(meta.revocation_endpoint)!;
  return endpoints;
}

/** Posts to a token endpoint; an OAuth error becomes a RemoteError with its `error` code. */
export async function tokenRequest(endpoint: string, fields: Record<string, string | undefined>): Promise<TokenResponse> {
  const response = await call(endpoint, formPost(fields), 'the token endpoint');
  const body = await json(response, endpoint);
  if (!response.ok) throw new RemoteError(String(body.error ?? 'ERR_TOKEN_ENDPOINT'), `the identity provider refused: ${String(body.error ?? response.status)}${body.error_description ? ` (${String(body.error_description)})` : ''}`);
  if (typeof body.access_token !== 'string') throw new RemoteError('ERR_TOKEN_ENDPOINT', 'the token endpoint answered without an access token');
  return body as unknown as TokenResponse;
}

/** What the device authorization endpoint answers (RFC 8628 §3.2). */
export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

/**
 * The device authorization grant: asks for a code, calls `show` with it,
 * then polls the token endpoint at the IdP's interval (RFC 8628 §3.4, §3.5).
 */
export async function deviceFlow(
  endpoints: Endpoints,
  request: { clientId: string; scopes: string[]; resource?: string },
  show: (authorization: DeviceAuthorization) => void,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<TokenResponse> {
  if (!endpoints.deviceAuthorization) throw new RemoteError('ERR_NO_DEVICE_FLOW', 'the identity provider offers no device authorization endpoint: try stele login --browser');
  const response = await call(endpoints.deviceAuthorization, formPost({ client_id: request.clientId, scope: request.scopes.join(' '), resource: request.resource }), 'the device authorization endpoint');
  const body = await json(response, endpoints.deviceAuthorization);
  if (!response.ok || typeof body.device_code !== 'string' || typeof body.user_code !== 'string' || typeof body.verification_uri !== 'string') {
    throw new RemoteError(String(body.error ?? 'ERR_DEVICE_AUTHORIZATION'), `the identity provider refused the device authorization: ${String(body.error_description ?? body.error ?? response.status)}`);
  }
  const authorization = body as unknown as DeviceAuthorization;
  show(authorization);
  let interval = Math.max(1, Number.isSafeInteger(authorization.interval) ? authorization.interval! : 5) * 1000;
  const deadline = Date.now() + Math.max(1, authorization.expires_in || 600) * 1000;
  for (;;) {
    await sleep(interval);
    try {
      return await tokenRequest(endpoints.token, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: authorization.device_code, client_id: request.clientId });
    } catch (err) {
      if (!(err instanceof RemoteError)) throw err;
      if (err.code === 'authorization_pending' && Date.now() < deadline) continue;
      if (err.code === 'slow_down') {
        interval += 5000;
        continue;
      }
      throw err;
    }
  }
}

/**
 * The authorization code grant with PKCE and a loopback redirect: listens on
 * 127.0.0.1 (a free port), calls `show` with the URL to open in a browser,
 * and exchanges the code that comes back.
 */
export async function browserFlow(endpoints: Endpoints, request: { clientId: string; scopes: string[]; resource?: string }, show: (url: string) => void): Promise<TokenResponse> {
  if (!endpoints.authorization) throw new RemoteError('ERR_NO_BROWSER_FLOW', 'the identity provider offers no authorization endpoint');
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(16).toString('base64url');
  let redirectUri = '';
  const code = await new Promise<string>((resolve, reject) => {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== '/callback') {
        res.writeHead(404).end();
        return;
      }
      const done = (status: number, text: string) => {
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(text);
        server.close();
        clearTimeout(timer);
      };
      // The redirect is attacker-reachable on loopback: only our state is taken.
      if (url.searchParams.get('state') !== state) return done(400, 'state mismatch: close this window and run stele login again');
      const error = url.searchParams.get('error');
      const got = url.searchParams.get('code');
      if (error || !got) {
        done(400, `sign-in failed: ${error ?? 'no code'}`);
        return reject(new RemoteError(error ?? 'ERR_NO_CODE', `the identity provider answered ${error ?? 'without a code'}`));
      }
      done(200, 'Signed in to Stele. You can close this window.');
      resolve(got);
    });
    const timer = setTimeout(() => {
      server.close();
      reject(new RemoteError('ERR_TIMEOUT', 'nobody signed in within 5 minutes'));
    }, 300_000);
    timer.unref();
    server.listen(0, '127.0.0.1', () => {
      redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
      const url = new URL(endpoints.authorization!);
      const params: Record<string, string | undefined> = {
        response_type: 'code',
        client_id: request.clientId,
        redirect_uri: redirectUri,
        scope: request.scopes.join(' '),
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: request.resource,
        prompt: request.scopes.includes('offline_access') ? 'consent' : undefined,
      };
      for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
      show(url.href);
    });
  });
  return tokenRequest(endpoints.token, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: request.clientId, code_verifier: verifier, resource: request.resource });
}

/** RFC 7009 revocation, best effort: logging out must not fail because the IdP is away. */
export async function revoke(endpoint: string, clientId: string, token: string): Promise<boolean> {
  try {
    const response = await fetch(endpoint, { ...formPost({ token, token_type_hint: 'refresh_token', client_id: clientId }), signal: AbortSignal.timeout(10_000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** A JWT's exp in epoch milliseconds, read without verifying (only to know when to refresh our own token). */
export function jwtExpiry(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
