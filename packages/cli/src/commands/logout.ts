import { chooseServer, loadCredentials, saveCredentials } from '../credentials.js';
import { EXIT, type Io } from '../io.js';
import { revoke } from '../oauth.js';
import { parse } from '../usage.js';

/**
 * `stele logout [--server URL] [--json]`: forgets the stored login, and asks
 * the identity provider to revoke its refresh token (best effort).
 */
export async function logout(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { server: { type: 'string' }, json: { type: 'boolean' } });
  const server = chooseServer(io, values.server);
  const creds = loadCredentials(io, server);
  let revoked = false;
  if (creds?.refreshToken && creds.revocationEndpoint) revoked = await revoke(creds.revocationEndpoint, creds.clientId, creds.refreshToken);
  if (creds) saveCredentials(io, server, undefined);
  if (values.json) io.stdout(JSON.stringify({ server, loggedOut: Boolean(creds), revoked }) + '\n');
  else io.stdout(creds ? `logged out of ${server}${revoked ? ' (refresh token revoked)' : ''}\n` : `not logged in to ${server}\n`);
  return EXIT.ok;
}
