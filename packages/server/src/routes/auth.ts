import type { FastifyInstance } from 'fastify';
import type { Principal } from '../auth/guard.js';
import type { AppContext } from '../context.js';

/**
 * What a client needs to log in (`GET /v1/auth/config`, open: a user types
 * only the server's URL), and who the caller is (`GET /v1/auth/whoami`).
 */
export function authRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/v1/auth/config', async () => {
    const issuers = [];
    for (const issuer of ctx.oidc?.issuers ?? []) {
      if (issuer.clientId === undefined) continue; // an issuer for services only: nobody logs in with it
      const meta = await ctx.oidc!.metadata(issuer);
      issuers.push({
        name: issuer.name,
        issuer: issuer.issuer,
        clientId: issuer.clientId,
        scopes: issuer.scopes,
        ...(issuer.resource !== undefined && { resource: issuer.resource }),
        token: issuer.loginToken,
        ...(meta?.device_authorization_endpoint && { deviceAuthorizationEndpoint: meta.device_authorization_endpoint }),
        ...(meta?.authorization_endpoint && { authorizationEndpoint: meta.authorization_endpoint }),
        ...(meta?.token_endpoint && { tokenEndpoint: meta.token_endpoint }),
        ...(meta?.revocation_endpoint && { revocationEndpoint: meta.revocation_endpoint }),
      });
    }
    return { issuers };
  });

  app.get('/v1/auth/whoami', { onRequest: ctx.guard('any') }, async (request) => whoami(request.principal!));
}

/** The caller as the API describes it. */
export function whoami(principal: Principal): Record<string, unknown> {
  switch (principal.kind) {
    case 'token':
      return { type: 'token', id: principal.token.id, name: principal.token.name, roles: [principal.token.scope] };
    case 'anonymous':
      return { type: 'anonymous', roles: ['admin'] };
    case 'oidc': {
      const { identity } = principal;
      return {
        type: 'oidc',
        kind: identity.kind,
        issuer: identity.issuer,
        subject: identity.subject,
        actor: identity.actor,
        roles: identity.roles,
        groupsOverage: identity.groupsOverage,
        ...(identity.tenant !== undefined && { tenant: identity.tenant }),
        ...(identity.clientId !== undefined && { clientId: identity.clientId }),
        expires: new Date(identity.expires * 1000).toISOString(),
      };
    }
  }
}
