import type { Actor, EventRecord } from '@stele/log';
import type { Log } from '@stele/store';
import { submitterOf, type Identity } from './auth/identity.js';
import { stableId } from './sources/normalize.js';

/**
 * One person, many names: the IdP subject, the Kubernetes user name, the AWS
 * principal, the git e-mail and the Slack user are the same person. The map
 * comes from two places:
 *
 * - the configuration (`[[identities]]`): a person's e-mail and their
 *   identifiers in each source;
 * - the log itself: the first time a person's OIDC token sends events, the
 *   collector records a `stele.identity.link` event (actor = the verified
 *   identity, deterministic id), so the IdP subject and the Kubernetes user
 *   name an OIDC-authenticated API server gives it (`<issuer>#<subject>`) are
 *   linked to the IdP's e-mail. Learned links are in the verifiable log,
 *   survive restarts and are found with an indexed query.
 *
 * A query for any of a person's identifiers is expanded, at query time, to
 * all of them (search.ts): events recorded before a link was known are found
 * too, and nothing about a person is rewritten in the log.
 */

/** A person as configured. */
export interface PersonConfig {
  /** The person's e-mail at the IdP: the canonical name a query may use. */
  email: string;
  name?: string;
  /** IdP subjects (`sub`, Okta `uid`, Entra `oid`). */
  subjects: string[];
  /** Kubernetes user names (`alice`, `oidc:alice@example.com`, `https://issuer#sub`). */
  kubernetes: string[];
  /** AWS principals as actors carry them: IAM user ARNs, assumed-role session ARNs, Identity Center user ids. */
  aws: string[];
  /** Git author and committer e-mails, GitHub logins. */
  git: string[];
  /** Slack user ids (`U024BE7LH`). */
  slack: string[];
  /** Any other identifier. */
  ids: string[];
}

/** A person found for a query: the canonical e-mail and every identifier to search for. */
export interface Person {
  email: string;
  name?: string;
  identifiers: string[];
}

/** The action of a learned link. */
export const LINK_ACTION = 'stele.identity.link';
/** Most identifiers one person expands to (each is an indexed query). */
export const MAX_IDENTIFIERS = 32;

const LISTS = ['subjects', 'kubernetes', 'aws', 'git', 'slack', 'ids'] as const;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses the `identities` setting: a list of `{email, name?, subjects?,
 * kubernetes?, aws?, git?, slack?, ids?}`.
 *
 * @throws Error naming the first bad entry
 */
export function parseIdentities(value: unknown): PersonConfig[] {
  if (!Array.isArray(value)) throw new Error('identities must be a list of tables ([[identities]])');
  const seen = new Map<string, string>();
  return value.map((raw, i) => {
    if (!isObject(raw)) throw new Error(`identities[${i}] must be a table`);
    for (const key of Object.keys(raw)) {
      if (key !== 'email' && key !== 'name' && !(LISTS as readonly string[]).includes(key)) throw new Error(`unknown setting identities[${i}].${key}`);
    }
    if (typeof raw.email !== 'string' || !EMAIL.test(raw.email)) throw new Error(`identities[${i}].email must be an e-mail address`);
    if (raw.name !== undefined && typeof raw.name !== 'string') throw new Error(`identities[${i}].name must be a string`);
    const person: PersonConfig = { email: raw.email, ...(raw.name !== undefined && { name: raw.name as string }), subjects: [], kubernetes: [], aws: [], git: [], slack: [], ids: [] };
    for (const list of LISTS) {
      const items = raw[list] ?? [];
      if (!Array.isArray(items) || items.some((x) => typeof x !== 'string' || x === '' || x.length > 4096)) throw new Error(`identities[${i}].${list} must be a list of non-empty strings`);
      person[list] = items as string[];
    }
    // One identifier names one person: otherwise a query for it could not say whose events it wants.
    for (const id of [person.email.toLowerCase(), ...LISTS.flatMap((l) => person[l])]) {
      const other = seen.get(id);
      if (other !== undefined && other !== person.email) throw new Error(`identities: ${id} is listed for both ${other} and ${person.email}`);
      seen.set(id, person.email);
    }
    return person;
  });
}

/** The configured people, looked up by any identifier (e-mails without regard to case). */
export interface IdentityMap {
  readonly people: readonly PersonConfig[];
  find(identifier: string): PersonConfig | undefined;
}

/** Indexes the configured people. */
export function createIdentityMap(people: readonly PersonConfig[]): IdentityMap {
  const index = new Map<string, PersonConfig>();
  for (const person of people) {
    index.set(person.email.toLowerCase(), person);
    for (const list of LISTS) for (const id of person[list]) index.set(EMAIL.test(id) ? id.toLowerCase() : id, person);
  }
  return { people, find: (identifier) => index.get(identifier) ?? index.get(identifier.toLowerCase()) };
}

/** The identifiers a learned link adds: the IdP subject, and the user name an OIDC-authenticated Kubernetes API server gives it. */
function linkIdentifiers(record: EventRecord): string[] {
  const { id, idp } = record.actor;
  if (id === undefined) return [];
  return idp === undefined ? [id] : [id, `${idp}#${id}`];
}

/** Learned links naming an identifier (as actor id or e-mail), newest first. */
async function links(log: Log, identifier: string): Promise<EventRecord[]> {
  const found = await log.query({ source: 'stele', action: LINK_ACTION, actor: identifier, limit: 64 });
  return found.map((e) => e.record).filter((r) => r.actor.verified);
}

/**
 * The person an identifier belongs to, with every identifier to search for;
 * undefined when the identifier is linked to nothing else (the query stays
 * as it was).
 */
export async function resolvePerson(log: Log, map: IdentityMap, identifier: string): Promise<Person | undefined> {
  let configured = map.find(identifier);
  const emails = new Set<string>();
  if (configured) emails.add(configured.email);
  else if (EMAIL.test(identifier)) emails.add(identifier);
  else {
    // A subject, or the Kubernetes user name `<issuer>#<subject>`: the e-mail of the link that names it.
    const subject = identifier.slice(identifier.lastIndexOf('#') + 1);
    for (const record of await links(log, subject)) {
      if (record.actor.email && linkIdentifiers(record).includes(identifier)) emails.add(record.actor.email);
    }
    for (const email of emails) configured ??= map.find(email);
    if (configured) emails.add(configured.email);
  }
  const identifiers = new Set<string>([identifier, ...emails]);
  if (configured) for (const list of LISTS) for (const id of configured[list]) identifiers.add(id);
  for (const email of emails) for (const record of await links(log, email)) for (const id of linkIdentifiers(record)) identifiers.add(id);
  if (identifiers.size <= 1) return undefined;
  const email = configured?.email ?? [...emails][0] ?? identifier;
  return { email, ...(configured?.name !== undefined && { name: configured.name }), identifiers: [...identifiers].slice(0, MAX_IDENTIFIERS) };
}

/**
 * The link event a person's verified identity makes: deterministic id and no
 * time, so recording it again (another request, another collector, a
 * restart) is a duplicate, not a second event.
 */
export function linkEvent(identity: Identity): Record<string, unknown> | undefined {
  const { id, email, idp } = identity.actor;
  if (identity.kind !== 'person' || id === undefined || email === undefined) return undefined;
  const actor: Actor = { id, email, ...(idp !== undefined && { idp }), verified: true };
  return {
    id: stableId('stele-identity', idp ?? '', id, email),
    source: 'stele',
    action: LINK_ACTION,
    actor,
    target: { type: 'person', id: email },
    outcome: 'success',
    details: { subject: id, email, ...(idp !== undefined && { idp, kubernetesUsername: `${idp}#${id}` }) },
  };
}

/** Records each person's link once per process (the log deduplicates across processes). */
export function createLinkRecorder(log: Log, onError: (err: unknown) => void = () => undefined): (identity: Identity) => Promise<void> {
  const done = new Set<string>();
  return async (identity) => {
    const event = linkEvent(identity);
    if (!event || done.has(event.id as string)) return;
    try {
      await log.append([event], { submitter: submitterOf(identity) });
      done.add(event.id as string);
    } catch (err) {
      onError(err);
    }
  };
}
