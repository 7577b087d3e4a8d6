import { isLoopback } from '../config.js';
import type { Scope } from './tokenStore.js';

/**
 * OpenID Connect issuers the collector trusts (docs/IDENTITY.md): one entry
 * of `[[oidc.issuers]]` in the configuration, after its preset was applied.
 */
export interface IssuerConfig {
  /** A short name (`okta`, `entra`): it prefixes the submitter id of every event the issuer's users send. */
  name: string;
  /** Which claim mapping it started from. */
  preset: Preset;
  /** The exact `iss` of its tokens. */
  issuer: string;
  /** Accepted `aud` values (any one matches). */
  audience: string[];
  /** Accepted signature algorithms: asymmetric only. */
  algorithms: string[];
  /** Seconds of leeway for exp and nbf. */
  clockSkewSeconds: number;
  /** The JWKS URL; discovered from `<issuer>/.well-known/openid-configuration` when absent. */
  jwksUri?: string;
  /** The public client `stele login` uses (published at GET /v1/auth/config). */
  clientId?: string;
  /** The scopes `stele login` asks for. */
  scopes: string[];
  /** An RFC 8707 resource indicator `stele login` sends (some IdPs issue JWT access tokens only for one). */
  resource?: string;
  /** Which of its tokens `stele login` sends: the access token (default) or the ID token (Google). */
  loginToken: 'access' | 'id';
  /** Where the identity is in the token: each a list of claim names (dotted paths reach nested ones). */
  claims: ClaimMapping;
  /** Which groups (or app roles) grant which role; `*` is every identity of the issuer. */
  roles: Record<Scope, string[]>;
}

/** Claim names per identity field. id, email, name, tenant: the first present; groups: all present, joined. */
export interface ClaimMapping {
  id: string[];
  email: string[];
  name: string[];
  groups: string[];
  tenant: string[];
}

/** The documented presets. */
export type Preset = 'okta' | 'entra' | 'generic';

/** The claim mapping and scopes of each preset (docs/IDENTITY.md). */
export const PRESETS: Record<Preset, { claims: ClaimMapping; scopes: string[] }> = {
  // Okta: access tokens of a custom authorization server carry `uid` (the user id) and `sub` (the login);
  // ID tokens carry the user id in `sub`. `groups` needs a groups claim on the authorization server.
  okta: {
    claims: { id: ['uid', 'sub'], email: ['email'], name: ['name'], groups: ['groups'], tenant: [] },
    scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
  },
  // Entra ID: `oid` is the user's stable id across apps, `tid` the tenant; groups are object ids,
  // and app roles (`roles`) count as groups for role mapping.
  entra: {
    claims: { id: ['oid'], email: ['email', 'preferred_username', 'upn'], name: ['name'], groups: ['groups', 'roles'], tenant: ['tid'] },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
  },
  // Keycloak, Dex, Google, Auth0 and other standard providers.
  generic: {
    claims: { id: ['sub'], email: ['email'], name: ['name', 'preferred_username'], groups: ['groups'], tenant: [] },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
  },
};

/** Algorithms a collector may accept: asymmetric only, so no public key can ever serve as an HMAC secret. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

const KEYS = ['name', 'preset', 'issuer', 'audience', 'algorithms', 'clockSkewSeconds', 'jwksUri', 'clientId', 'scopes', 'resource', 'loginToken', 'claims', 'roles'];

/**
 * Reads `oidc.issuers` from a configuration layer: applies presets and
 * defaults, and refuses unknown keys, wrong types, symmetric algorithms,
 * plain-HTTP issuers off loopback, and duplicate names or issuers.
 *
 * @throws Error (the config layer wraps it in ConfigError) naming the bad setting
 */
export function parseIssuers(value: unknown): IssuerConfig[] {
  if (!Array.isArray(value)) throw new Error('oidc.issuers must be a list of tables ([[oidc.issuers]])');
  const out = value.map((raw, i) => parseIssuer(raw, `oidc.issuers[${i}]`));
  for (const key of ['name', 'issuer'] as const) {
    const seen = new Set<string>();
    for (const issuer of out) {
      if (seen.has(issuer[key])) throw new Error(`two oidc.issuers have the ${key} ${issuer[key]}`);
      seen.add(issuer[key]);
    }
  }
  return out;
}

function parseIssuer(raw: unknown, at: string): IssuerConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${at} must be a table`);
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KEYS.includes(key)) throw new Error(`unknown setting ${at}.${key}`);
  const preset = (o.preset ?? 'generic') as Preset;
  if (!(preset in PRESETS)) throw new Error(`${at}.preset must be one of ${Object.keys(PRESETS).join(', ')}`);
  const issuer = str(o.issuer, `${at}.issuer`);
  httpsUrl(issuer, `${at}.issuer`);
  const name = o.name === undefined ? new URL(issuer).hostname.split('.')[0]!.toLowerCase().slice(0, 32) : str(o.name, `${at}.name`);
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(name)) throw new Error(`${at}.name must be 1 to 32 of a-z, 0-9 and -, starting with a letter or digit`);
  const audience = strings(o.audience, `${at}.audience`, true);
  if (audience.length === 0) throw new Error(`${at}.audience is required: the aud your tokens carry (an API identifier, or the client id for ID tokens)`);
  const algorithms = o.algorithms === undefined ? ['RS256'] : strings(o.algorithms, `${at}.algorithms`, true);
  for (const alg of algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.includes(alg)) throw new Error(`${at}.algorithms: ${alg} is not accepted (only ${ASYMMETRIC_ALGORITHMS.join(', ')})`);
  }
  const skew = o.clockSkewSeconds ?? 60;
  if (typeof skew !== 'number' || !Number.isSafeInteger(skew) || skew < 0 || skew > 600) throw new Error(`${at}.clockSkewSeconds must be a whole number from 0 to 600`);
  const jwksUri = o.jwksUri === undefined ? undefined : str(o.jwksUri, `${at}.jwksUri`);
  if (jwksUri !== undefined) httpsUrl(jwksUri, `${at}.jwksUri`);
  const loginToken = o.loginToken ?? 'access';
  if (loginToken !== 'access' && loginToken !== 'id') throw new Error(`${at}.loginToken must be "access" or "id"`);
  const defaults = PRESETS[preset];
  const claims = { ...defaults.claims };
  if (o.claims !== undefined) {
    if (!o.claims || typeof o.claims !== 'object' || Array.isArray(o.claims)) throw new Error(`${at}.claims must be a table`);
    for (const [key, names] of Object.entries(o.claims as Record<string, unknown>)) {
      if (!(key in claims)) throw new Error(`unknown setting ${at}.claims.${key} (id, email, name, groups, tenant)`);
      claims[key as keyof ClaimMapping] = strings(names, `${at}.claims.${key}`, true);
    }
  }
  const roles: Record<Scope, string[]> = { ingest: ['*'], read: [], admin: [] };
  if (o.roles !== undefined) {
    if (!o.roles || typeof o.roles !== 'object' || Array.isArray(o.roles)) throw new Error(`${at}.roles must be a table`);
    for (const [key, groups] of Object.entries(o.roles as Record<string, unknown>)) {
      if (!(key in roles)) throw new Error(`unknown setting ${at}.roles.${key} (ingest, read, admin)`);
      roles[key as Scope] = strings(groups, `${at}.roles.${key}`, false);
    }
  }
  const config: IssuerConfig = {
    name,
    preset,
    issuer,
    audience,
    algorithms,
    clockSkewSeconds: skew,
    scopes: o.scopes === undefined ? [...defaults.scopes] : strings(o.scopes, `${at}.scopes`, false),
    loginToken,
    claims,
    roles,
  };
  if (jwksUri !== undefined) config.jwksUri = jwksUri;
  if (o.clientId !== undefined) config.clientId = str(o.clientId, `${at}.clientId`);
  if (o.resource !== undefined) config.resource = str(o.resource, `${at}.resource`);
  return config;
}

function str(value: unknown, at: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`${at} must be a non-empty string`);
  return value;
}

/** A string or a list of strings (TOML and JSON both allow either for single values). */
function strings(value: unknown, at: string, single: boolean): string[] {
  if (single && typeof value === 'string' && value !== '') return [value];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) throw new Error(`${at} must be a list of non-empty strings`);
  return [...(value as string[])];
}

/** Keys and tokens come over this URL: HTTPS, except on loopback (tests, a local IdP). */
function httpsUrl(value: string, at: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${at} must be a URL`);
  }
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return;
  throw new Error(`${at} must be an https URL (plain http only on loopback)`);
}
