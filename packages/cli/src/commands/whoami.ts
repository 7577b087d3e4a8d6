import { chooseServer } from '../credentials.js';
import { EXIT, type Io } from '../io.js';
import { answerError, collectorRequest } from '../remote.js';
import { parse } from '../usage.js';

/**
 * `stele whoami [--server URL] [--json]`: who the collector takes you for
 * (GET /v1/auth/whoami), with the stored login (refreshed silently) or
 * `$STELE_TOKEN`.
 */
export async function whoami(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { server: { type: 'string' }, json: { type: 'boolean' } });
  const server = chooseServer(io, values.server);
  const answer = await collectorRequest(io, server, '/v1/auth/whoami');
  if (answer.status !== 200) throw answerError(answer);
  io.stdout(values.json ? JSON.stringify(answer.body) + '\n' : `${describeCaller(answer.body)}\n`);
  return EXIT.ok;
}

/** One line about a caller as GET /v1/auth/whoami describes it. */
export function describeCaller(who: Record<string, unknown>): string {
  const roles = Array.isArray(who.roles) ? who.roles.join(', ') || 'none' : 'none';
  if (who.type === 'oidc') {
    const actor = (who.actor ?? {}) as { email?: string; name?: string };
    const label = who.kind === 'service' ? `service ${String(who.clientId ?? who.subject)}` : `${actor.name ? `${actor.name} ` : ''}<${actor.email ?? String(who.subject)}>`;
    return `${label} (subject ${String(who.subject)} at ${String(who.issuer)}; roles: ${roles}; token expires ${String(who.expires)})`;
  }
  if (who.type === 'token') return `API token ${String(who.name)} (id ${String(who.id)}; roles: ${roles})`;
  return `anonymous (the collector runs without authentication)`;
}
