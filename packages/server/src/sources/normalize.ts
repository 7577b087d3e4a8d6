import { createHash } from 'node:crypto';
import { canonicalBytes, validateEvent, type Actor } from '@stele/log';

/**
 * What every source shares: deterministic ids, text and size fitting, ticket
 * references, and the error a payload of the wrong shape raises. Everything
 * here runs on hostile input (webhook bodies, log files) before or without a
 * signature, so it never trusts a type or a length.
 */

/** An event a source produced, ready for `log.append` (validated there). */
export type SourceEvent = Record<string, unknown> & { source: string; action: string; actor: Actor; details: Record<string, unknown> };

/** The canonical JSON size events are validated against (docs/EVENT.md): 65,535 minus the store's 1,024. */
export const EVENT_BUDGET = 64_511;

/** The default ticket reference: a Jira-style key (`INC-42`, `OPS2-7`). */
export const DEFAULT_TICKET_PATTERNS: readonly string[] = ['\\b[A-Z][A-Z0-9]+-\\d+\\b'];

/** One thing wrong with a source's payload: which item (from 0, or -1 for the whole body) and field. */
export interface PayloadProblem {
  item: number;
  field: string;
  message: string;
}

/** A payload that is not of the source's documented schema: 422 ERR_PAYLOAD_INVALID, nothing appended. */
export class PayloadError extends Error {
  readonly code = 'ERR_PAYLOAD_INVALID';
  constructor(readonly problems: PayloadProblem[]) {
    // An empty field is the payload (or item) as a whole: nothing to name before the message.
    const say = (p: PayloadProblem | undefined) => (p === undefined ? '' : `${p.field ? `${p.field}: ` : ''}${p.message}`);
    super(problems.length === 1 ? say(problems[0]) : `${problems.length} problems, the first: ${say(problems[0])}`);
    this.name = 'PayloadError';
  }
}

/** Hex SHA-256 of bytes or a string's UTF-8. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A deterministic event id: `<prefix>/<40 hex digits of SHA-256 over the parts>`. */
export function stableId(prefix: string, ...parts: string[]): string {
  return `${prefix}/${sha256Hex(parts.join('\n')).slice(0, 40)}`;
}

const ID_PART = /^[A-Za-z0-9._:@+=-]{1,80}$/;

/** A piece of an event id: the text itself when it fits the id alphabet, else its hash (40 hex digits). */
export function idPart(text: string): string {
  return ID_PART.test(text) ? text : sha256Hex(text).slice(0, 40);
}

// eslint-disable-next-line no-control-regex -- removing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** The string with lone surrogates replaced by U+FFFD (String.prototype.toWellFormed, which ES2023 lacks). */
const wellFormed = (text: string) => text.replace(LONE_SURROGATE, '\uFFFD');
// eslint-disable-next-line no-control-regex -- reason keeps tab and newline only
const REASON_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** A string the event schema takes: control characters removed, lone surrogates replaced, at most `max` code points; undefined when nothing is left. */
export function clean(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = Array.from(wellFormed(String(value)).replace(CONTROL, '')).slice(0, max).join('').trim();
  return text === '' ? undefined : text;
}

/** Text for `reason`: tab and newline kept, carriage returns dropped, at most 4,096 code points. */
export function cleanReason(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = Array.from(wellFormed(value).replace(/\r\n?/g, '\n').replace(REASON_CONTROL, '')).slice(0, 4096).join('').trim();
  return text === '' ? undefined : text;
}

const EMAIL = /^[^\s@:/]+@[^\s@:/]+\.[^\s@:/]+$/;

/**
 * The e-mail address an identifier names, if any: the identifier itself, or
 * its last `:`- or `/`-separated part (`oidc:alice@example.com`, an assumed
 * role's session name `.../alice@example.com`).
 */
export function emailIn(identifier: string | undefined): string | undefined {
  if (identifier === undefined) return undefined;
  const last = identifier.split(/[:/]/).pop() ?? '';
  const email = EMAIL.test(identifier) ? identifier : EMAIL.test(last) ? last : undefined;
  return email !== undefined && Array.from(email).length <= 254 ? email : undefined;
}

/** An actor from a source's identity, fitted to the schema; undefined without an id or an e-mail. */
export function actorOf(fields: { id?: unknown; email?: unknown; name?: unknown; groups?: unknown; idp?: unknown }): Actor | undefined {
  const id = clean(fields.id, 256);
  const rawEmail = clean(fields.email, 254);
  const email = rawEmail !== undefined && EMAIL.test(rawEmail) ? rawEmail : emailIn(id);
  if (id === undefined && email === undefined) return undefined;
  const actor: Actor = { verified: false };
  if (id !== undefined) actor.id = id;
  if (email !== undefined) actor.email = email;
  const name = clean(fields.name, 256);
  if (name !== undefined) actor.name = name;
  if (Array.isArray(fields.groups)) {
    const groups = fields.groups.map((g) => clean(g, 256)).filter((g): g is string => g !== undefined).slice(0, 64);
    if (groups.length > 0) actor.groups = groups;
  }
  const idp = clean(fields.idp, 256);
  if (idp !== undefined) actor.idp = idp;
  return actor;
}

/** The canonical JSON size of a value, in bytes. */
export function jsonBytes(value: unknown): number {
  return canonicalBytes(value).length;
}

/** What stands in for a value too large (or too secret) to keep: its SHA-256 over canonical JSON, and its size. */
export function digestOf(value: unknown): { sha256: string; bytes: number; omitted: true } {
  const bytes = canonicalBytes(value);
  return { sha256: sha256Hex(bytes), bytes: bytes.length, omitted: true };
}

/** The value itself when its canonical JSON fits `maxBytes`, else its digest. */
export function capValue(value: unknown, maxBytes: number): unknown {
  if (value === undefined) return undefined;
  return jsonBytes(value) <= maxBytes ? value : digestOf(value);
}

/** Compiles ticket patterns (regular expression sources) into global regexps. */
export function ticketMatchers(patterns: readonly string[]): RegExp[] {
  return patterns.map((p) => new RegExp(p, 'gu'));
}

/** Ticket references in texts, upper-cased, in order of first appearance, at most 32. */
export function ticketsIn(texts: readonly unknown[], matchers: readonly RegExp[]): string[] {
  const found = new Set<string>();
  for (const text of texts) {
    if (typeof text !== 'string') continue;
    for (const re of matchers) {
      for (const match of text.matchAll(re)) {
        const ticket = clean(match[0], 128)?.toUpperCase();
        if (ticket !== undefined) found.add(ticket);
        if (found.size >= 32) return [...found];
      }
    }
  }
  return [...found];
}

/**
 * Makes an event fit the validation budget (64,511 bytes of canonical JSON)
 * by replacing the largest members of `details` (then of its largest child)
 * with their digests; `details.truncated` names what was replaced. Events
 * that fit are returned unchanged.
 */
export function fitEvent<E extends SourceEvent>(event: E): E {
  if (jsonBytes(event) <= EVENT_BUDGET) return event;
  const details: Record<string, unknown> = { ...event.details };
  const truncated: string[] = [];
  const fits = () => jsonBytes({ ...event, details: { ...details, truncated } }) <= EVENT_BUDGET;
  for (let pass = 0; pass < 2 && !fits(); pass++) {
    // First the largest nested members, then whole top-level members.
    const entries = Object.entries(details)
      .filter(([k]) => k !== 'tickets' && k !== 'privileged')
      .sort((a, b) => jsonBytes(b[1]) - jsonBytes(a[1]));
    for (const [key, value] of entries) {
      if (fits()) break;
      if (pass === 0 && value && typeof value === 'object' && !Array.isArray(value)) {
        const inner: Record<string, unknown> = { ...(value as Record<string, unknown>) };
        for (const [k, v] of Object.entries(inner).sort((a, b) => jsonBytes(b[1]) - jsonBytes(a[1]))) {
          if (jsonBytes(v) < 256) break;
          inner[k] = digestOf(v);
          truncated.push(`${key}.${k}`);
          details[key] = inner;
          if (fits()) break;
        }
      } else if (pass === 1 && jsonBytes(value) >= 256) {
        details[key] = digestOf(value);
        truncated.push(key);
      }
    }
  }
  const out: Record<string, unknown> = { ...event, details: { ...details, truncated } };
  if (!fits() && typeof out.reason === 'string') out.reason = Array.from(out.reason).slice(0, 1024).join('');
  return out as E;
}

/**
 * Makes a push event fit by listing fewer of its commits (`details.git.commits`,
 * newest kept), counting the rest in `commitsOmitted`; then {@link fitEvent}.
 */
export function fitPush<E extends SourceEvent>(event: E): E {
  const git = objectOf(event.details.git);
  const commits = git && Array.isArray(git.commits) ? git.commits : undefined;
  if (!git || !commits || jsonBytes(event) <= EVENT_BUDGET) return fitEvent(event);
  const total = typeof git.commitCount === 'number' ? git.commitCount : commits.length;
  const withCommits = (n: number) => ({ ...event, details: { ...event.details, git: { ...git, commits: commits.slice(0, n), ...(total > n && { commitsOmitted: total - n }) } } });
  let lo = 0;
  let hi = commits.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (jsonBytes(withCommits(mid)) <= EVENT_BUDGET) lo = mid;
    else hi = mid - 1;
  }
  return fitEvent(withCommits(lo));
}

/** True when an event passes the schema (mappers use it to report a bad item as a payload problem). */
export function schemaProblems(event: unknown, item: number): PayloadProblem[] {
  const result = validateEvent(event);
  return result.ok ? [] : result.errors.map((e) => ({ item, field: e.field, message: `${e.message} [${e.code}]` }));
}

/** A value as a plain object, or undefined. */
export function objectOf(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** A non-empty string, or undefined. */
export function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
