import type { Actor, Submitter } from '@stele/log';
import type { FastifyInstance } from 'fastify';
import { recordAdmin } from '../audit.js';
import { submitterFor } from '../auth/bind.js';
import type { Principal } from '../auth/guard.js';
import { SCOPES, TokenExistsError, type Scope } from '../auth/tokenStore.js';
import { ApiError } from '../errors.js';
import type { AppContext } from '../context.js';

/** The person or credential behind an admin action, as the self-audit event's actor and submitter. */
export function adminActor(principal: Principal): { actor: Actor; submitter: Submitter } {
  // The submitter as every record names it (API.md), so an admin's events and ingested ones match.
  const submitter = submitterFor(principal);
  switch (principal.kind) {
    case 'oidc':
      return { actor: principal.identity.actor, submitter };
    case 'token':
      return { actor: { id: `token:${principal.token.name}`, verified: true }, submitter };
    case 'anonymous':
      return { actor: { id: 'anonymous', verified: false }, submitter };
  }
}

/**
 * The console's admin pages (scope admin): `GET /v1/admin/tokens` lists API
 * tokens (never their secrets), `POST /v1/admin/tokens` creates one (its
 * secret in the answer, once), `DELETE /v1/admin/tokens/{id}` revokes one.
 * Every create and revoke is a `token.create` / `token.revoke` event in the
 * log itself, with the caller as actor, appended before the answer.
 */
export function adminRoutes(app: FastifyInstance, ctx: AppContext): void {
  const store = () => {
    if (!ctx.tokens) throw new ApiError(404, 'ERR_NOT_FOUND', 'authentication is off: this collector has no API tokens');
    return ctx.tokens;
  };

  app.get('/v1/admin/tokens', { onRequest: ctx.guard('admin') }, async () => ({ tokens: store().list() }));

  app.post('/v1/admin/tokens', { onRequest: ctx.guard('admin') }, async (request, reply) => {
    const body = request.body as { name?: unknown; scope?: unknown } | undefined;
    const name = body?.name;
    const scope = body?.scope;
    if (typeof name !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(name)) throw new ApiError(400, 'ERR_BAD_REQUEST', 'name: 1 to 64 printable ASCII characters without spaces');
    if (typeof scope !== 'string' || !SCOPES.includes(scope as Scope)) throw new ApiError(400, 'ERR_BAD_REQUEST', `scope: one of ${SCOPES.join(', ')}`);
    const tokens = store();
    let created;
    try {
      created = tokens.create(name, scope as Scope);
    } catch (err) {
      if (err instanceof TokenExistsError) throw new ApiError(409, 'ERR_TOKEN_EXISTS', `${err.message}: revoke it first, or choose another name`, { id: err.existing.id });
      throw err;
    }
    const { token, record } = created;
    try {
      await recordAdmin(ctx.store.log, 'token.create', { ...adminActor(request.principal!), target: { type: 'token', id: record.id, name: record.name }, details: { scope: record.scope } });
    } catch (err) {
      // No unrecorded credential: if the log refuses the event, the token never worked.
      tokens.revoke(record.id);
      throw err;
    }
    return reply.code(201).send({ token, record });
  });

  app.delete('/v1/admin/tokens/:id', { onRequest: ctx.guard('admin') }, async (request) => {
    const { id } = request.params as { id: string };
    const tokens = store();
    const live = tokens.live(id).find((t) => t.id === id);
    if (!live) throw new ApiError(404, 'ERR_NOT_FOUND', `no live token with id ${id}`);
    const record = tokens.revoke(id)!;
    await recordAdmin(ctx.store.log, 'token.revoke', { ...adminActor(request.principal!), target: { type: 'token', id: record.id, name: record.name }, details: { scope: record.scope } });
    return { record };
  });
}
