import { createHash } from 'node:crypto';
import type { Actor, Submitter } from '@stele/log';
import type { IssuerConfig } from './issuer.js';
import { SCOPES, type Scope } from './tokenStore.js';

/** Who an OIDC token says is calling, once its signature and claims were checked. */
export interface Identity {
  /** The issuer's short name and URL. */
  issuerName: string;
  issuer: string;
  /** A person (bound as the actor of their events) or a service (client credentials: actor from the payload). */
  kind: 'person' | 'service';
  /** The mapped stable id (`uid`/`sub` for Okta, `oid` for Entra, `sub` otherwise). */
  subject: string;
  /** The actor Stele writes for a person's events: verified, with the issuer as `idp`. */
  actor: Actor;
  tenant?: string;
  /** True when the IdP left the groups out (Entra's overage) or sent more than an actor holds. */
  groupsOverage: boolean;
  /** The roles the groups grant (docs/IDENTITY.md). */
  roles: Scope[];
  /** The OAuth client the token was issued to, when it says. */
  clientId?: string;
  /** The token's exp, epoch seconds. */
  expires: number;
}

/** Why claims could not become an identity: 401 ERR_TOKEN_CLAIMS. */
export class ClaimsError extends Error {
  readonly code = 'ERR_TOKEN_CLAIMS';
}

// eslint-disable-next-line no-control-regex -- removing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** A claim by name, or by a dotted path into nested objects (Keycloak's `realm_access.roles`). */
function claim(payload: Record<string, unknown>, name: string): unknown {
  if (name in payload) return payload[name];
  let at: unknown = payload;
  for (const part of name.split('.')) {
    if (!at || typeof at !== 'object' || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** The first listed claim that is a usable string (numbers count: some IdPs send numeric ids). */
function first(payload: Record<string, unknown>, names: string[]): string | undefined {
  for (const name of names) {
    const value = claim(payload, name);
    if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  return undefined;
}

/** Text the event schema accepts: no control characters, at most `max` characters. */
function clean(text: string, max: number): string {
  return Array.from(text.replace(CONTROL, '')).slice(0, max).join('');
}

/** Text the store takes in `submitter`: at most `max` UTF-16 code units, no control characters, no surrogates (astral characters become U+FFFD). */
function fit(text: string, max: number): string {
  let out = '';
  for (const ch of text.replace(CONTROL, '')) {
    if (out.length >= max) break;
    out += ch.length > 1 ? '\uFFFD' : ch;
  }
  return out;
}

/**
 * Maps a verified token's claims onto an identity (pure: the signature and
 * the registered claims were checked before).
 *
 * @throws ClaimsError when the id claim is missing or not usable
 */
export function identityOf(config: IssuerConfig, payload: Record<string, unknown>): Identity {
  const rawId = first(payload, config.claims.id);
  if (rawId === undefined) throw new ClaimsError(`the token has none of the id claims ${config.claims.id.join(', ')}`);
  const subject = clean(rawId, 256);
  if (subject === '') throw new ClaimsError('the id claim is empty once control characters are removed');
  const actor: Actor = { id: subject, idp: config.issuer.slice(0, 256), verified: true };
  // An address the IdP says it has not verified is not bound: anyone could have typed it.
  const email = payload.email_verified === false ? undefined : first(payload, config.claims.email);
  if (email !== undefined && EMAIL.test(email) && Array.from(email).length <= 254) actor.email = email;
  const name = first(payload, config.claims.name);
  if (name !== undefined && clean(name, 256) !== '') actor.name = clean(name, 256);

  const all: string[] = [];
  let present = false;
  for (const groupClaim of config.claims.groups) {
    const value = claim(payload, groupClaim);
    if (value === undefined) continue;
    present = true;
    for (const g of Array.isArray(value) ? value : [value]) {
      if (typeof g === 'string' && clean(g, 256) !== '') all.push(clean(g, 256));
    }
  }
  // Entra ID leaves `groups` out past 200 (150 in SAML, 6 in implicit flows) and says so instead.
  const names = payload._claim_names as Record<string, unknown> | undefined;
  let overage = Boolean(names && typeof names === 'object' && 'groups' in names) || payload.hasgroups === true;
  if (all.length > 64) overage = true;
  if (present || all.length > 0) actor.groups = all.slice(0, 64);

  const clientId = first(payload, ['client_id', 'cid', 'azp', 'appid']);
  // Client credentials: RFC 9068 puts the client id in sub; Entra marks app-only tokens with idtyp.
  const service = payload.idtyp === 'app' || (clientId !== undefined && payload.sub === clientId);
  const identity: Identity = {
    issuerName: config.name,
    issuer: config.issuer,
    kind: service ? 'service' : 'person',
    subject,
    actor,
    groupsOverage: overage,
    roles: rolesOf(config, all),
    expires: typeof payload.exp === 'number' ? payload.exp : 0,
  };
  const tenant = first(payload, config.claims.tenant);
  if (tenant !== undefined) identity.tenant = clean(tenant, 256);
  if (clientId !== undefined) identity.clientId = clean(clientId, 256);
  return identity;
}

/** The roles a list of groups grants under the issuer's mapping; admin includes the others. */
export function rolesOf(config: IssuerConfig, groups: readonly string[]): Scope[] {
  const have = new Set(groups);
  return SCOPES.filter((scope) => config.roles[scope].some((g) => g === '*' || have.has(g)));
}

/**
 * The record's `submitter` for an OIDC caller: `oidc`, the issuer-scoped
 * subject (hashed when it would pass the 128-character cap), and the e-mail
 * or name, within the store's bounds.
 */
export function submitterOf(identity: Identity): Submitter {
  let id = `${identity.issuerName}:${identity.subject}`;
  if (id.length > 128) id = `${identity.issuerName}:sha256:${createHash('sha256').update(identity.subject).digest('hex')}`;
  const name = identity.actor.email ?? identity.actor.name ?? identity.clientId;
  const submitter: Submitter = { type: 'oidc', id: fit(id, 128) };
  if (name !== undefined && fit(name, 128) !== '') submitter.name = fit(name, 128);
  return submitter;
}
