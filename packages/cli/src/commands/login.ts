import { chooseServer, saveCredentials } from '../credentials.js';
import { EXIT, type Io } from '../io.js';
import { browserFlow, deviceFlow, discover, type Endpoints } from '../oauth.js';
import { answerError, authConfig, collectorRequest, credentialsFrom, type PublishedIssuer } from '../remote.js';
import { UsageError, parse } from '../usage.js';
import { describeCaller } from './whoami.js';

/**
 * `stele login --server URL [--issuer NAME] [--browser] [--json]`: signs in
 * with the identity provider the collector names (GET /v1/auth/config) through
 * the device authorization grant, or with `--browser` the authorization code
 * grant with PKCE and a loopback redirect; keeps the tokens in the user's
 * config directory (mode 0600) and checks them with the collector.
 */
export async function login(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { server: { type: 'string' }, issuer: { type: 'string' }, browser: { type: 'boolean' }, json: { type: 'boolean' } });
  const server = chooseServer(io, values.server);
  const issuers = await authConfig(server);
  if (issuers.length === 0) throw new UsageError(`${server} has no identity provider to log in with (use an API token: STELE_TOKEN)`);
  const issuer: PublishedIssuer | undefined = values.issuer === undefined ? issuers[0] : issuers.find((i) => i.name === values.issuer);
  if (!issuer) throw new UsageError(`${server} has no issuer named ${values.issuer} (it has ${issuers.map((i) => i.name).join(', ')})`);

  let endpoints: Endpoints;
  if (issuer.tokenEndpoint && (values.browser ? issuer.authorizationEndpoint : issuer.deviceAuthorizationEndpoint)) {
    endpoints = {
      token: issuer.tokenEndpoint,
      ...(issuer.deviceAuthorizationEndpoint && { deviceAuthorization: issuer.deviceAuthorizationEndpoint }),
      ...(issuer.authorizationEndpoint && { authorization: issuer.authorizationEndpoint }),
      ...(issuer.revocationEndpoint && { revocation: issuer.revocationEndpoint }),
    };
  } else {
    endpoints = await discover(issuer.issuer);
  }
  const request = { clientId: issuer.clientId, scopes: issuer.scopes, ...(issuer.resource !== undefined && { resource: issuer.resource }) };
  const tokens = values.browser
    ? await browserFlow(endpoints, request, (url) => io.stderr(`stele login: open this URL in a browser to sign in to ${issuer.issuer}:\nopen: ${url}\n`))
    : await deviceFlow(endpoints, request, (a) => {
        io.stderr(`stele login: to sign in, visit ${a.verification_uri} and enter the code ${a.user_code}\n`);
        io.stderr(`open: ${a.verification_uri_complete ?? a.verification_uri}\n`);
      });
  const credentials = credentialsFrom(
    {
      issuer: issuer.issuer,
      issuerName: issuer.name,
      clientId: issuer.clientId,
      tokenEndpoint: endpoints.token,
      ...(endpoints.revocation && { revocationEndpoint: endpoints.revocation }),
      token: issuer.token,
      scopes: issuer.scopes,
      ...(issuer.resource !== undefined && { resource: issuer.resource }),
    },
    tokens,
  );
  saveCredentials(io, server, credentials);
  // The collector has the last word: a token it refuses is not kept.
  const answer = await collectorRequest({ ...io, env: { ...io.env, STELE_TOKEN: '' } }, server, '/v1/auth/whoami');
  if (answer.status !== 200) {
    saveCredentials(io, server, undefined);
    throw answerError(answer);
  }
  if (values.json) io.stdout(JSON.stringify({ server, issuer: issuer.issuer, whoami: answer.body }) + '\n');
  else io.stdout(`logged in to ${server} as ${describeCaller(answer.body)}\n`);
  return EXIT.ok;
}
