/**
 * A real OpenID provider on loopback for the identity tests: the
 * `oidc-provider` package (the certified Node.js implementation) with the
 * device authorization grant, client credentials, refresh tokens, and JWT
 * access tokens for one resource (RFC 8707 resource indicators, RFC 9068).
 *
 * The tests play the user with {@link approveDevice} and {@link approveAuthorization}:
 * plain HTTP requests against the provider's own device verification and
 * development login/consent pages, following redirects with a cookie jar.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
// oidc-provider ships no type declarations; these tests use a handful of its calls.
import Provider, { errors } from 'oidc-provider';

/** A person the provider knows. */
export interface TestUser {
  email: string;
  name: string;
  groups: string[];
}

/** The users every provider knows, by account id (the token's `sub`). */
export const USERS: Record<string, TestUser> = {
  alice: { email: 'alice@example.com', name: 'Alice Liddell', groups: ['engineering', 'stele-admins'] },
  bob: { email: 'bob@example.com', name: 'Bob Builder', groups: ['auditors'] },
  carol: { email: 'carol@example.com', name: 'Carol Danvers', groups: [] },
};

/** The public client `stele login` uses, and a confidential service client. */
export const CLI_CLIENT = 'stele-cli';
export const SERVICE_CLIENT = 'ci-bot';
export const SERVICE_SECRET = 'ci-bot-secret-that-is-long-enough-for-hs256-0123456789';
/** The resource (audience) the provider issues JWT access tokens for. */
export const AUDIENCE = 'https://stele.test/api';

/** A running provider. */
export interface TestProvider {
  /** The issuer URL (`http://127.0.0.1:PORT`). */
  issuer: string;
  /** The private signing key (RS256) the provider uses; tests forge tokens with it. */
  privateJwk: JWK & { kid: string };
  /** Requests to the JWKS endpoint so far. */
  jwksFetches(): number;
  close(): Promise<void>;
}

/** Options of {@link startProvider}. */
export interface ProviderOptions {
  /**
   * More redirect URIs of the public client `stele-cli`: the console's own
   * page (`http://127.0.0.1:PORT/`), as an admin registers it for signing in
   * from the browser. Their origins may then call the token endpoint (CORS).
   */
  redirectUris?: string[];
}

/** Starts a provider on 127.0.0.1 on a free port. */
export async function startProvider(options: ProviderOptions = {}): Promise<TestProvider> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid: `k-${Math.random().toString(36).slice(2, 10)}`, alg: 'RS256', use: 'sig' } as JWK & { kid: string };
  let fetches = 0;
  // The provider needs its URL, so the server listens first and hands requests over once it exists.
  const holder: { provider?: InstanceType<typeof Provider> } = {};
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/jwks')) fetches++;
    holder.provider!.callback()(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLI_CLIENT,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback', ...(options.redirectUris ?? [])],
      },
      {
        client_id: SERVICE_CLIENT,
        client_secret: SERVICE_SECRET,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks: { keys: [privateJwk] },
    cookies: { keys: ['stele-test-cookie-key'] },
    // A browser page (the console) may call the token endpoint only from the origin of one of the
    // public client's redirect URIs, as Okta's trusted origins and Entra's SPA redirect URIs allow.
    clientBasedCORS: (_ctx: unknown, origin: string, client: { clientAuthMethod: string; redirectUris: string[] }) =>
      client.clientAuthMethod === 'none' && client.redirectUris.some((uri) => new URL(uri).origin === origin),
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups', 'events'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    findAccount: (_ctx: unknown, id: string) => {
      const user = USERS[id];
      if (!user) return undefined;
      return { accountId: id, claims: () => ({ sub: id, email: user.email, email_verified: true, name: user.name, groups: user.groups }) };
    },
    // Access tokens carry the person's e-mail, name and groups, as Okta and Entra can be told to.
    extraTokenClaims: (_ctx: unknown, token: { accountId?: string }) => {
      const user = token.accountId ? USERS[token.accountId] : undefined;
      return user ? { email: user.email, name: user.name, groups: user.groups } : undefined;
    },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== AUDIENCE) throw new errors.InvalidTarget();
          return { scope: 'events', audience: AUDIENCE, accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    ttl: { AccessToken: 600, ClientCredentials: 600, DeviceCode: 600, IdToken: 600, RefreshToken: 3600, Grant: 3600, Interaction: 600, Session: 3600 },
  });
  holder.provider = provider;
  // RFC 8628's default poll interval is 5 s; the provider states none, so the tests' provider says 1 s.
  provider.use(async (ctx: { path: string; body: unknown }, next: () => Promise<void>) => {
    await next();
    if (ctx.path === '/device/auth' && ctx.body && typeof ctx.body === 'object') (ctx.body as Record<string, unknown>).interval = 1;
  });
  return {
    issuer,
    privateJwk,
    jwksFetches: () => fetches,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Writes at `path` a `stele.json` whose collector trusts `provider`: tokens
 * for AUDIENCE, the CLI client, group stele-admins as admins and auditors as
 * readers.
 */
export function writeCollectorConfig(path: string, provider: TestProvider): void {
  writeFileSync(path, JSON.stringify({
    oidc: {
      issuers: [{
        name: 'testidp', issuer: provider.issuer, audience: AUDIENCE, clientId: CLI_CLIENT, resource: AUDIENCE,
        scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'], roles: { admin: ['stele-admins'], read: ['auditors'] },
      }],
    },
  }));
}

/** Cookies by name, kept across requests to one provider (paths ignored: every test cookie is sent back). */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** One browser session: requests with cookies, redirects followed by hand. */
class Browser {
  private readonly jar = new CookieJar();
  /** Requests `url`, following redirects on the provider's origin; returns the last response and its URL. */
  async go(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ url: string; status: number; text: string; location?: string }> {
    let current = url;
    let method = init.method ?? 'GET';
    let body: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
    for (let hop = 0; hop < 20; hop++) {
      const response = await fetch(current, {
        method,
        redirect: 'manual',
        headers: { cookie: this.jar.header(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        body,
      });
      this.jar.store(response);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        const next = new URL(location, current);
        if (next.origin !== new URL(url).origin) return { url: current, status: response.status, text: await response.text(), location: next.href };
        current = next.href;
        method = 'GET';
        body = undefined;
        continue;
      }
      return { url: current, status: response.status, text: await response.text() };
    }
    throw new Error('too many redirects');
  }
}

/** The hidden and named inputs of the first form on a page, and where it posts. */
function formOf(html: string): { action: string; fields: Record<string, string> } {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error(`no form on the page:\n${html.slice(0, 2000)}`);
  const fields: Record<string, string> = {};
  for (const input of form[2]!.matchAll(/<input[^>]*>/gi)) {
    const name = /name="([^"]*)"/.exec(input[0])?.[1];
    const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
    if (name) fields[name] = value.replace(/&amp;/g, '&').replace(/&#x2F;/g, '/').replace(/&quot;/g, '"');
  }
  return { action: form[1]!.replace(/&amp;/g, '&'), fields };
}

/** Signs in as `user` on an interaction page and consents; returns the page after the last step. */
async function interact(browser: Browser, page: { url: string; text: string; location?: string }, user: string) {
  let current = page;
  for (let step = 0; step < 4 && !current.location; step++) {
    if (!/name="prompt"/.test(current.text)) return current;
    const { action, fields } = formOf(current.text);
    const target = new URL(action, current.url).href;
    if (fields.prompt === 'login') current = await browser.go(target, { method: 'POST', form: { ...fields, login: user, password: 'any' } });
    else current = await browser.go(target, { method: 'POST', form: fields });
  }
  return current;
}

/**
 * Plays the user of the device flow: opens `verification_uri_complete`,
 * confirms the code, signs in as `user` and consents. Resolves once the
 * provider shows its success page.
 */
export async function approveDevice(verificationUriComplete: string, user: string): Promise<void> {
  const browser = new Browser();
  // The complete URI answers with a self-posting form carrying the code and an xsrf token.
  let page = await browser.go(verificationUriComplete);
  let form = formOf(page.text);
  page = await browser.go(new URL(form.action, page.url).href, { method: 'POST', form: form.fields });
  // The confirmation page: "is this the code your device shows?"
  form = formOf(page.text);
  page = await browser.go(new URL(form.action, page.url).href, { method: 'POST', form: { ...form.fields, confirm: 'yes' } });
  page = await interact(browser, page, user);
  if (!/success/i.test(page.text)) throw new Error(`the device flow did not end in success:\n${page.text.slice(0, 2000)}`);
}

/**
 * Plays the user of the authorization code flow: opens the authorization
 * URL, signs in as `user`, consents, and follows the final redirect to the
 * client's loopback redirect URI. Resolves with that redirect's response status.
 */
export async function approveAuthorization(authorizationUrl: string, user: string): Promise<number> {
  const browser = new Browser();
  let page = await browser.go(authorizationUrl);
  page = await interact(browser, page, user);
  if (!page.location) throw new Error(`the authorization did not redirect back:\n${page.text.slice(0, 2000)}`);
  const response = await fetch(page.location);
  await response.text();
  return response.status;
}

/** The tokens a token endpoint answers with. */
export interface TokenSet {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
  expires_in: number;
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

/** Logs `user` in through the device flow without the CLI: the tokens the provider issues to `stele-cli`. */
export async function deviceTokens(issuer: string, user: string): Promise<TokenSet> {
  const started = (await (await fetch(`${issuer}/device/auth`, form({ client_id: CLI_CLIENT, scope: 'openid email profile groups offline_access', resource: AUDIENCE }))).json()) as Record<string, string>;
  await approveDevice(started.verification_uri_complete!, user);
  const response = await fetch(`${issuer}/token`, form({ client_id: CLI_CLIENT, grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: started.device_code! }));
  if (!response.ok) throw new Error(`token endpoint: ${response.status} ${await response.text()}`);
  return (await response.json()) as TokenSet;
}

/** A client-credentials token of the service client `ci-bot`. */
export async function serviceToken(issuer: string): Promise<string> {
  const response = await fetch(`${issuer}/token`, {
    ...form({ grant_type: 'client_credentials', scope: 'events', resource: AUDIENCE }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${SERVICE_CLIENT}:${SERVICE_SECRET}`).toString('base64')}` },
  });
  if (!response.ok) throw new Error(`token endpoint: ${response.status} ${await response.text()}`);
  return ((await response.json()) as TokenSet).access_token;
}
