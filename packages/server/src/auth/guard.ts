import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { ApiError } from '../errors.js';
import type { Identity } from './identity.js';
import { looksLikeJwt, type OidcVerifier } from './oidc.js';
import { allows, type Scope, type TokenRecord, type TokenStore } from './tokenStore.js';

/**
 * Who is calling: an API token's record, a person or service an OIDC token
 * proved, or the anonymous caller when authentication is off.
 */
export type Principal = { kind: 'token'; token: TokenRecord } | { kind: 'oidc'; identity: Identity } | { kind: 'anonymous' };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** What a guard checks credentials against; both undefined means authentication is off. */
export interface Credentials {
  tokens: TokenStore | undefined;
  oidc: OidcVerifier | undefined;
}

/** Reads the bearer credential of a request, if any. */
function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new ApiError(401, 'ERR_AUTH_INVALID', 'the Authorization header must be "Bearer <token>"', undefined, { 'www-authenticate': 'Bearer' });
  return match[1];
}

/** How long a verified OIDC token's identity is used again without verifying it (never past its `exp`). */
const OIDC_REUSE_MS = 30_000;
const MAX_REUSED = 1000;
const reused = new WeakMap<OidcVerifier, Map<string, { identity: Identity; until: number }>>();

/**
 * The identity an OIDC token proves. A signature check costs about as much
 * as the rest of an ingest request, so a token that verified is trusted again
 * for OIDC_REUSE_MS, and never past its `exp`: a JWT cannot be revoked at the
 * collector anyway, and the issuer's keys are cached for longer than that.
 * A token that failed is checked again each time.
 */
async function verifyOidc(oidc: OidcVerifier, token: string): Promise<Identity> {
  let known = reused.get(oidc);
  if (!known) reused.set(oidc, (known = new Map()));
  const now = Date.now();
  const hit = known.get(token);
  if (hit && hit.until > now) return hit.identity;
  known.delete(token);
  const identity = await oidc.verify(token);
  const { exp } = decodeJwt(token); // verified just now: exp is a number
  const until = Math.min(now + OIDC_REUSE_MS, typeof exp === 'number' ? exp * 1000 : now);
  if (until > now) {
    if (known.size >= MAX_REUSED) known.clear();
    known.set(token, { identity, until });
  }
  return identity;
}

/** True when the principal may do what `need` requires (`any`: just be authenticated). */
export function permits(principal: Principal, need: Scope | 'any'): boolean {
  if (principal.kind === 'anonymous' || need === 'any') return true;
  if (principal.kind === 'token') return allows(principal.token.scope, need);
  return principal.identity.roles.some((role) => allows(role, need));
}

/**
 * An onRequest hook requiring a scope: it reads only headers, so an
 * unauthenticated caller is refused before the server reads or parses a
 * body. API tokens (`stele_...`) are looked up; JWTs are verified against
 * the configured OIDC issuers. With authentication off every caller is the
 * anonymous principal; `open` lets anonymous callers through even with
 * authentication on (public hash tiles).
 */
export function requireScope(credentials: Credentials, scope: Scope | 'any', open = false) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const { tokens, oidc } = credentials;
    if (!tokens && !oidc) {
      request.principal = { kind: 'anonymous' };
      return;
    }
    const secret = bearer(request);
    if (secret === undefined) {
      if (open) {
        request.principal = { kind: 'anonymous' };
        return;
      }
      throw new ApiError(401, 'ERR_AUTH_MISSING', 'this endpoint needs a credential: Authorization: Bearer <token>', undefined, { 'www-authenticate': 'Bearer' });
    }
    let principal: Principal;
    if (looksLikeJwt(secret)) {
      if (!oidc) throw new ApiError(401, 'ERR_TOKEN_ISSUER_UNKNOWN', 'this collector trusts no OIDC issuer', undefined, { 'www-authenticate': 'Bearer error="invalid_token"' });
      principal = { kind: 'oidc', identity: await verifyOidc(oidc, secret) };
    } else {
      const token = tokens?.authenticate(secret);
      if (!token) throw new ApiError(401, 'ERR_AUTH_INVALID', 'the token is unknown or revoked', undefined, { 'www-authenticate': 'Bearer error="invalid_token"' });
      principal = { kind: 'token', token };
    }
    if (!permits(principal, scope)) {
      const who = principal.kind === 'token' ? `the token ${principal.token.name} has scope ${principal.token.scope}` : `this identity has the roles [${principal.kind === 'oidc' ? principal.identity.roles.join(', ') : ''}]`;
      throw new ApiError(403, 'ERR_FORBIDDEN', `${who}; this needs ${scope}`);
    }
    request.principal = principal;
  };
}
