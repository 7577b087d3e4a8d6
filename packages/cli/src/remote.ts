import { loadCredentials, saveCredentials, type ServerCredentials } from './credentials.js';
import type { Io } from './io.js';
import { jwtExpiry, RemoteError, tokenRequest, type TokenResponse } from './oauth.js';

/** An issuer as the collector publishes it at GET /v1/auth/config. */
export interface PublishedIssuer {
  name: string;
  issuer: string;
  clientId: string;
  scopes: string[];
  resource?: string;
  token: 'access' | 'id';
  deviceAuthorizationEndpoint?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  revocationEndpoint?: string;
}

/** Refresh this long before the token expires. */
const MARGIN_MS = 60_000;

/** GET /v1/auth/config of a collector. */
export async function authConfig(server: string): Promise<PublishedIssuer[]> {
  let response: Response;
  try {
    response = await fetch(`${server}/v1/auth/config`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new RemoteError('ERR_UNREACHABLE', `cannot reach the collector at ${server}: ${(err as Error).message}`);
  }
  const body = (await response.json().catch(() => undefined)) as { issuers?: PublishedIssuer[] } | undefined;
  if (!response.ok || !body || !Array.isArray(body.issuers)) throw new RemoteError('ERR_REMOTE', `${server}/v1/auth/config answered ${response.status}; is this a Stele collector?`);
  return body.issuers;
}

/** Stored credentials from a token response (keeping a refresh token the IdP did not rotate). */
export function credentialsFrom(base: Omit<ServerCredentials, 'accessToken' | 'idToken' | 'refreshToken' | 'expiresAt'>, tokens: TokenResponse, previous?: ServerCredentials): ServerCredentials {
  const idToken = tokens.id_token ?? previous?.idToken;
  const refreshToken = tokens.refresh_token ?? previous?.refreshToken;
  const accessExpiry = Date.now() + (tokens.expires_in ?? 300) * 1000;
  const expiresAt = base.token === 'id' && idToken ? (jwtExpiry(idToken) ?? accessExpiry) : accessExpiry;
  return { ...base, accessToken: tokens.access_token, ...(idToken && { idToken }), ...(refreshToken && { refreshToken }), expiresAt };
}

/** The bearer token to send, refreshed first when it is about to expire (or `force`). */
export async function bearerFor(io: Io, server: string, force = false): Promise<string> {
  let creds = loadCredentials(io, server);
  if (!creds) throw new RemoteError('ERR_NOT_LOGGED_IN', `not logged in to ${server}: run stele login --server ${server}`);
  if (force || creds.expiresAt - MARGIN_MS <= Date.now()) {
    if (!creds.refreshToken) throw new RemoteError('ERR_NOT_LOGGED_IN', `the login to ${server} has expired: run stele login --server ${server}`);
    let tokens: TokenResponse;
    try {
      tokens = await tokenRequest(creds.tokenEndpoint, { grant_type: 'refresh_token', refresh_token: creds.refreshToken, client_id: creds.clientId, resource: creds.resource });
    } catch (err) {
      if (err instanceof RemoteError && err.code === 'invalid_grant') throw new RemoteError('ERR_NOT_LOGGED_IN', `the login to ${server} has expired: run stele login --server ${server}`);
      throw err;
    }
    const { accessToken: _a, idToken: _i, refreshToken: _r, expiresAt: _e, ...base } = creds;
    creds = credentialsFrom(base, tokens, creds);
    saveCredentials(io, server, creds);
  }
  const token = creds.token === 'id' ? creds.idToken : creds.accessToken;
  if (!token) throw new RemoteError('ERR_NOT_LOGGED_IN', `no ${creds.token} token stored for ${server}: run stele login --server ${server}`);
  return token;
}

/** The collector's answer: status and parsed JSON body. */
export interface CollectorAnswer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * A request to the collector with a bearer token: `$STELE_TOKEN` (an API
 * token) when set, else the stored login, refreshed silently when it
 * expired (once more if the collector says it did).
 */
export async function collectorRequest(io: Io, server: string, path: string, init: { method?: string; body?: string | Uint8Array; contentType?: string; contentEncoding?: string } = {}): Promise<CollectorAnswer> {
  const send = async (token: string): Promise<CollectorAnswer> => {
    let response: Response;
    try {
      response = await fetch(`${server}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(init.contentType && { 'content-type': init.contentType }),
          ...(init.contentEncoding && { 'content-encoding': init.contentEncoding }),
        },
        ...(init.body !== undefined && { body: init.body }),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      throw new RemoteError('ERR_UNREACHABLE', `cannot reach the collector at ${server}: ${(err as Error).message}`);
    }
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    return { status: response.status, body };
  };
  if (io.env.STELE_TOKEN) return send(io.env.STELE_TOKEN);
  const answer = await send(await bearerFor(io, server));
  const code = (answer.body.error as { code?: string } | undefined)?.code;
  if (answer.status === 401 && code === 'ERR_TOKEN_EXPIRED') return send(await bearerFor(io, server, true));
  return answer;
}

/** A collector error answer as a RemoteError: bad input exits 2, refusals and failures 1. */
export function answerError(answer: CollectorAnswer): RemoteError {
  const error = (answer.body.error ?? {}) as { code?: string; message?: string };
  const code = error.code ?? `HTTP_${answer.status}`;
  const exit = [400, 409, 413, 415, 422].includes(answer.status) ? 2 : 1;
  return new RemoteError(code, `the collector answered ${answer.status} ${code}${error.message ? `: ${error.message}` : ''}`, exit);
}
