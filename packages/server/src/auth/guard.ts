import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import { allows, type Scope, type TokenRecord, type TokenStore } from './tokenStore.js';

/** Who is calling: a token's record, or the anonymous caller when authentication is off. */
export type Principal = { kind: 'token'; token: TokenRecord } | { kind: 'anonymous' };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Reads the bearer credential of a request, if any. */
function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new ApiError(401, 'ERR_AUTH_INVALID', 'the Authorization header must be "Bearer <token>"', undefined, { 'www-authenticate': 'Bearer' });
  return match[1];
}

/**
 * An onRequest hook requiring a scope: it reads only headers, so an
 * unauthenticated caller is refused before the server reads or parses a body. With authentication off every caller is
 * the anonymous principal; `open` lets anonymous callers through even with
 * authentication on (public hash tiles).
 */
export function requireScope(tokens: TokenStore | undefined, scope: Scope, open = false) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (!tokens) {
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
    const token = tokens.authenticate(secret);
    if (!token) throw new ApiError(401, 'ERR_AUTH_INVALID', 'the token is unknown or revoked', undefined, { 'www-authenticate': 'Bearer error="invalid_token"' });
    if (!allows(token.scope, scope)) throw new ApiError(403, 'ERR_FORBIDDEN', `the token ${token.name} has scope ${token.scope}; this needs ${scope}`);
    request.principal = { kind: 'token', token };
  };
}
