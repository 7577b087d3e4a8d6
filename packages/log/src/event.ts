/**
 * The event record v1, the leaf of the log (docs/EVENT.md): the client part is
 * validated and normalized here, the store adds `v`, `received`, `index` (and
 * an `id` when the client sent none), and the leaf is the RFC 8785 canonical
 * JSON of the whole record.
 */
import { canonicalBytes, canonicalize, type JsonObject, type JsonValue } from './canonicalJson.js';
import { LogError } from './errors.js';
import { toRecord } from './record.js';
import { forInOwn, keysSorted, prototypeClean, sortKeys } from './members.js';
import { CONTROL_OR_SURROGATE, hasLoneSurrogate } from './unicode.js';

/** What the event's outcome was; `unknown` when the client did not say. */
export type Outcome = 'success' | 'failure' | 'unknown';

/** Who did it. At least one of `id` and `email`. */
export interface Actor {
  /** A stable identifier in the source's namespace (user name, subject, ARN, ...). */
  id?: string;
  /** An e-mail address. */
  email?: string;
  /** A display name. */
  name?: string;
  /** Groups or roles the actor acted with. */
  groups?: string[];
  /** The identity provider that vouched for the actor (e.g. an OIDC issuer). */
  idp?: string;
  /** Whether the identity was authenticated by the writer rather than merely claimed; false by default. */
  verified: boolean;
}

/** What it was done to. */
export interface Target {
  /** The kind of thing (`file`, `repository`, `pods`, `AWS::S3::Bucket`, ...). */
  type: string;
  /** Its identifier (path, URL, ARN, ...). */
  id?: string;
  /** A display name. */
  name?: string;
}

/** The sending device's own sequence, so gaps in its stream show. */
export interface Device {
  /** The device's identifier (same alphabet as an event id). */
  id: string;
  /** The device's sequence number for this event, from 1. */
  seq: number;
  /** Lower-case hex SHA-256 chaining the device's previous event (meaning set by the client; see docs/EVENT.md). */
  prev?: string;
}

/** The validated, normalized client part of an event: everything but the store's fields. */
export interface EventInput {
  /** The idempotency key; the store assigns a UUIDv7 when absent. */
  id?: string;
  /** When it happened, `YYYY-MM-DDTHH:MM:SS.mmmZ`; the store uses `received` when absent. */
  time?: string;
  /** The producing system: `emacs`, `git`, `kubernetes`, `cloudtrail`, `stele`, ... */
  source: string;
  /** The dotted verb: `file.save`, `vc.commit`, `package.install`, ... */
  action: string;
  /** Who did it. */
  actor: Actor;
  /** What it was done to. */
  target?: Target;
  /** How it ended; `unknown` when the client did not say. */
  outcome: Outcome;
  /** Why, in the actor's words (a commit message, a ticket). */
  reason?: string;
  /** The host it happened on. */
  host?: string;
  /** The sending device's sequence. */
  device?: Device;
  /** Source-specific data, any JSON object. */
  details?: JsonObject;
}

/** Which credential handed the event to the store (set by the collector, never by the client). */
export interface Submitter {
  /** How it authenticated: `token` (an API token), `oidc` (a person's token), `local` (the CLI on the store's own files). */
  type: string;
  /** The credential's stable identifier (token id, OIDC subject, OS user). */
  id: string;
  /** A display name (the token's name, the person's e-mail). */
  name?: string;
}

/** The full stored record: the leaf of the log is `canonicalBytes(record)`. */
export interface EventRecord extends Omit<EventInput, 'id' | 'time'> {
  /** The record version. */
  v: 1;
  /** The idempotency key, client-given or a store-assigned UUIDv7. */
  id: string;
  /** When it happened (defaults to `received`). */
  time: string;
  /** The store's clock when it accepted the event. */
  received: string;
  /** The position in the log. */
  index: number;
  /** The credential that submitted it, when the store was told. */
  submitter?: Submitter;
}

/**
 * The closed list of field error codes:
 * `required` missing; `type` wrong JSON type (or `null`); `format` right type but
 * bad syntax, empty, or forbidden characters; `enum` not one of the allowed
 * values; `range` a number out of range; `too_long` a string or array over its
 * cap; `too_deep` `details` nested too deeply; `too_large` the whole event over
 * its byte budget; `unknown_field` not in the schema; `store_field` set by the
 * store, not the client.
 */
export type FieldErrorCode =
  | 'required'
  | 'type'
  | 'format'
  | 'enum'
  | 'range'
  | 'too_long'
  | 'too_deep'
  | 'too_large'
  | 'unknown_field'
  | 'store_field'
  | 'reserved';

/** One problem with one field. */
export interface FieldError {
  /** Dotted path (`actor.email`, `actor.groups.2`, `details.a.b`); `""` is the event itself. */
  field: string;
  /** The stable code. */
  code: FieldErrorCode;
  /** For humans; do not branch on it. */
  message: string;
}

/** Events that fail the record schema; `event` is each error's position in the batch (or line). */
export class EventValidationError extends LogError {
  /** Every field error of every invalid event. */
  readonly errors: ReadonlyArray<FieldError & { event: number }>;

  /** @param errors - every field error, each with the position of its event in the batch (from 0) */
  constructor(errors: ReadonlyArray<FieldError & { event: number }>) {
    const first = errors[0];
    super('ERR_EVENT_INVALID', first === undefined ? 'invalid event' : `event ${first.event}: ${first.field || 'the event'}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`);
    this.errors = errors;
  }
}

/** The fields the store sets; a client may not send them. */
export const STORE_FIELDS: readonly string[] = Object.freeze(['v', 'received', 'index', 'submitter']);

const CLIENT_FIELDS = new Set(['id', 'time', 'source', 'action', 'actor', 'target', 'outcome', 'reason', 'host', 'device', 'details']);
const TOP_LEVEL_FIELDS: readonly string[] = [...CLIENT_FIELDS, ...STORE_FIELDS];
/** The values of `outcome`. */
export const OUTCOMES: readonly string[] = Object.freeze(['success', 'failure', 'unknown']);
const ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
const SOURCE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ACTION = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;
const TARGET_TYPE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
// No `u` flag: lone surrogates are refused before patterns run, and on valid
// UTF-16 these classes match a pair the same as its code point.
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const HEX64 = /^[0-9a-f]{64}$/;
/** Controls (C0, DEL, C1) and lone surrogates; `reason` alone may hold tabs and newlines. */
const BAD_LINE = /\p{Cc}|\p{Cs}/u;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const BAD_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]|\p{Cs}/u;
/** Host names: no white space. */
const HOST = /^\S+$/;
const MAX_GROUPS = 64;
const MAX_DETAILS_DEPTH = 32;
/** 65,535 (the entry cap) minus room for the fields the store adds (under 1,000 bytes, submitter included). */
const MAX_EVENT_BYTES = 65_535 - 1024;

type Obj = Record<string, unknown>;
const join = (parent: string, key: string | number | undefined): string => (key === undefined ? parent : `${parent}.${key}`);
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Length in Unicode code points, the unit of every cap. */
function codePoints(s: string, max: number): number {
  if (s.length <= max) return s.length; // code points <= code units
  let n = 0;
  for (const _ of s) if (++n > max) break;
  return n;
}

interface TextRule {
  max: number;
  pattern: RegExp | undefined;
  /**
   * A pattern that, when it matches, lets the value through: it matches
   * nothing the exact tests refuse (no control, no surrogate, nothing
   * `pattern` refuses), so that one test accepts a common value.
   */
  plain: RegExp;
  /** Free text: tabs and newlines allowed. */
  multiline: boolean;
}

/** Printable ASCII, the common case of free text. */
const PRINTABLE = /^[\u0020-\u007e]*$/;

/** Every rule has the same shape, so that reading one stays a monomorphic property access. */
const rule = (max: number, pattern: RegExp | undefined, plain: RegExp, multiline = false): TextRule => ({ max, pattern, plain, multiline });

/** The rule of every text field, made once rather than per event. */
const RULES = {
  id: rule(128, ID, ID),
  time: rule(64, undefined, PRINTABLE),
  source: rule(64, SOURCE, SOURCE),
  action: rule(128, ACTION, ACTION),
  actorId: rule(256, undefined, PRINTABLE),
  email: rule(254, EMAIL, /^[\u0021-\u003f\u0041-\u007e]+@[\u0021-\u003f\u0041-\u007e]+$/),
  targetType: rule(128, TARGET_TYPE, TARGET_TYPE),
  targetId: rule(4096, undefined, PRINTABLE),
  targetName: rule(1024, undefined, PRINTABLE),
  reason: rule(4096, undefined, PRINTABLE, true),
  host: rule(255, HOST, /^[\u0021-\u007e]+$/),
  prev: rule(64, HEX64, HEX64),
} as const satisfies Record<string, TextRule>;

/** A member the object does not have (as against one set to `undefined`, which counts as left out). */
const ABSENT: unique symbol = Symbol('absent');
type Member = unknown;

class Checker {
  readonly errors: FieldError[] = [];
  /**
   * An upper bound of the event's canonical size: every UTF-16 unit of a
   * string takes at most 6 bytes (`\u00XX`), plus room for keys and
   * punctuation. Only an event whose bound exceeds the budget is serialized
   * to measure it exactly, which keeps validation off the hot path's profile.
   */
  bound = 0;
  /** For-in lists only own keys of plain objects (see prototypeClean). */
  readonly clean = prototypeClean();

  add(field: string, code: FieldErrorCode, message: string): undefined {
    this.errors.push({ field, code, message });
    return undefined;
  }

  /** A member's value (ABSENT when the object lacks it), or undefined after reporting. */
  member(v: Member, path: string, required: boolean): unknown {
    if (v === ABSENT) return required ? this.add(path, 'required', 'must be present') : undefined;
    return v === null ? this.add(path, 'type', 'must not be null (omit an optional field instead)') : v;
  }

  text(v: Member, path: string, rule: TextRule, required = false): string | undefined {
    // The common case first: a string of the field's plain form is the value.
    if (typeof v === 'string' && v.length > 0 && v.length <= rule.max && rule.plain.test(v)) {
      this.bound += 6 * v.length + 64;
      return v;
    }
    const value = this.member(v, path, required);
    return value === undefined ? undefined : this.textValue(value, path, rule);
  }

  textValue(v: unknown, path: string, rule: TextRule): string | undefined {
    if (typeof v !== 'string') return this.add(path, 'type', 'must be a string');
    if (v.length === 0) return this.add(path, 'format', 'must not be empty');
    this.bound += 6 * v.length + 64;
    if (codePoints(v, rule.max) > rule.max) return this.add(path, 'too_long', `must have at most ${rule.max} characters`);
    if (CONTROL_OR_SURROGATE.test(v) && (rule.multiline ? BAD_TEXT : BAD_LINE).test(v)) return this.add(path, 'format', 'must not hold control characters or invalid Unicode');
    if (rule.pattern && !rule.pattern.test(v)) return this.add(path, 'format', `must match /${rule.pattern.source}/`);
    return v;
  }

  /** The member as an object, or undefined (after reporting unless it is absent). */
  object(v: Member, path: string, required = false): Obj | undefined {
    const value = this.member(v, path, required);
    if (value === undefined) return undefined;
    return isObject(value) ? value : this.add(path, 'type', 'must be an object');
  }

  unknown(obj: Obj, path: string, allowed: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (allowed.includes(key)) continue;
      const name = key.length > 64 ? `${key.slice(0, 64)}...` : key;
      this.add(path ? `${path}.${name}` : name, 'unknown_field', 'is not a field of the schema');
    }
  }

  /**
   * A deep copy of JSON, reporting what JCS cannot represent. The path is
   * `parent.key` (just `parent` without a key), joined only when needed.
   */
  json(v: unknown, parent: string, key: string | number | undefined, depth: number): JsonValue | undefined {
    this.bound += 32;
    if (v === null || typeof v === 'boolean') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : this.add(join(parent, key), 'type', 'must be a finite number');
    if (typeof v === 'string') {
      this.bound += 6 * v.length;
      return hasLoneSurrogate(v) ? this.add(join(parent, key), 'format', 'must be valid Unicode (no lone surrogates)') : v;
    }
    const path = join(parent, key);
    if (typeof v !== 'object') return this.add(path, 'type', 'must be a JSON value');
    if (depth > MAX_DETAILS_DEPTH) return this.add(path, 'too_deep', `must nest at most ${MAX_DETAILS_DEPTH} levels`);
    if (Array.isArray(v)) {
      const out: JsonValue[] = [];
      for (let i = 0; i < v.length; i++) out.push(this.json(v[i], path, i, depth + 1) ?? null);
      return out;
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return this.add(path, 'type', 'must be a plain JSON object');
    // A null prototype keeps a "__proto__" key as data (set on an empty object
    // rather than made by Object.create, so that V8 keeps the copy's members in
    // fast mode); sorted keys make the copy already canonical.
    const out = Object.setPrototypeOf({}, null) as JsonObject;
    const source = v as Obj;
    // For-in lists the keys without making an array when nothing inherited is enumerable.
    if ((proto === null || this.clean) && keysSorted(source)) {
      for (const k in source) this.copyMember(out, source, k, path, depth);
    } else {
      for (const k of sortKeys(Object.keys(source))) this.copyMember(out, source, k, path, depth);
    }
    return out;
  }

  copyMember(out: JsonObject, source: Obj, k: string, path: string, depth: number): void {
    this.bound += 6 * k.length + 8;
    if (hasLoneSurrogate(k)) this.add(`${path}.${k}`, 'format', 'must have a key of valid Unicode');
    out[k] = this.json(source[k], path, k, depth + 1) ?? null;
  }
}

const ACTOR_FIELDS: readonly string[] = ['id', 'email', 'name', 'groups', 'idp', 'verified'];
const TARGET_FIELDS: readonly string[] = ['type', 'id', 'name'];
const DEVICE_FIELDS: readonly string[] = ['id', 'seq', 'prev'];

// The check functions below read an object's members with one pass over its
// own keys (for-in, a switch, then a plain property read), which is several
// times cheaper than asking Object.hasOwn per field, and tells unknown keys apart.

function checkActor(c: Checker, v: Member): Actor | undefined {
  const given = c.object(v, 'actor', true);
  if (given === undefined) return undefined;
  const o = forInOwn(given, c.clean);
  let id: Member = ABSENT, email: Member = ABSENT, name: Member = ABSENT, groups: Member = ABSENT, idp: Member = ABSENT, verified: Member = ABSENT;
  let unknown = false;
  for (const key in o) {
    switch (key) {
      case 'id': id = o.id; break;
      case 'email': email = o.email; break;
      case 'name': name = o.name; break;
      case 'groups': groups = o.groups; break;
      case 'idp': idp = o.idp; break;
      case 'verified': verified = o.verified; break;
      default: unknown = true;
    }
  }
  if (unknown) c.unknown(o, 'actor', ACTOR_FIELDS);
  const actorId = c.text(id, 'actor.id', RULES.actorId);
  const actorEmail = c.text(email, 'actor.email', RULES.email);
  if (id === ABSENT && email === ABSENT) c.add('actor.id', 'required', 'an actor must have an id or an email');
  const actorName = c.text(name, 'actor.name', RULES.actorId);
  const groupsValue = c.member(groups, 'actor.groups', false);
  let groupList: string[] | undefined;
  if (groupsValue !== undefined) {
    if (!Array.isArray(groupsValue)) c.add('actor.groups', 'type', 'must be an array of strings');
    else if (groupsValue.length > MAX_GROUPS) c.add('actor.groups', 'too_long', `must have at most ${MAX_GROUPS} items`);
    else groupList = Array.from(groupsValue, (g: unknown, i) => c.textValue(g, `actor.groups.${i}`, RULES.actorId) ?? '');
  }
  const actorIdp = c.text(idp, 'actor.idp', RULES.actorId);
  const verifiedValue = c.member(verified, 'actor.verified', false);
  if (verifiedValue !== undefined && typeof verifiedValue !== 'boolean') c.add('actor.verified', 'type', 'must be a boolean');
  // Plain assignments, not conditional spreads: this runs for every event ingested.
  const actor = {} as Actor;
  if (actorId !== undefined) actor.id = actorId;
  if (actorEmail !== undefined) actor.email = actorEmail;
  if (actorName !== undefined) actor.name = actorName;
  if (groupList !== undefined) actor.groups = groupList;
  if (actorIdp !== undefined) actor.idp = actorIdp;
  actor.verified = verifiedValue === true;
  return actor;
}

function checkTarget(c: Checker, v: Member): Target | undefined {
  const given = c.object(v, 'target');
  if (given === undefined) return undefined;
  const o = forInOwn(given, c.clean);
  let type: Member = ABSENT, id: Member = ABSENT, name: Member = ABSENT;
  let unknown = false;
  for (const key in o) {
    switch (key) {
      case 'type': type = o.type; break;
      case 'id': id = o.id; break;
      case 'name': name = o.name; break;
      default: unknown = true;
    }
  }
  if (unknown) c.unknown(o, 'target', TARGET_FIELDS);
  const targetType = c.text(type, 'target.type', RULES.targetType, true);
  const targetId = c.text(id, 'target.id', RULES.targetId);
  const targetName = c.text(name, 'target.name', RULES.targetName);
  // After an error the placeholders are never returned: validateEvent reports instead.
  const target: Target = { type: targetType ?? '' };
  if (targetId !== undefined) target.id = targetId;
  if (targetName !== undefined) target.name = targetName;
  return target;
}

function checkDevice(c: Checker, v: Member): Device | undefined {
  const given = c.object(v, 'device');
  if (given === undefined) return undefined;
  const o = forInOwn(given, c.clean);
  let id: Member = ABSENT, seq: Member = ABSENT, prev: Member = ABSENT;
  let unknown = false;
  for (const key in o) {
    switch (key) {
      case 'id': id = o.id; break;
      case 'seq': seq = o.seq; break;
      case 'prev': prev = o.prev; break;
      default: unknown = true;
    }
  }
  if (unknown) c.unknown(o, 'device', DEVICE_FIELDS);
  const deviceId = c.text(id, 'device.id', RULES.id, true);
  const seqValue = c.member(seq, 'device.seq', true);
  if (seqValue !== undefined) {
    if (typeof seqValue !== 'number' || !Number.isInteger(seqValue)) c.add('device.seq', 'type', 'must be an integer');
    else if (seqValue < 1 || seqValue > Number.MAX_SAFE_INTEGER) c.add('device.seq', 'range', 'must be between 1 and 2^53 - 1');
  }
  const devicePrev = c.text(prev, 'device.prev', RULES.prev);
  const device: Device = { id: deviceId ?? '', seq: typeof seqValue === 'number' ? seqValue : 0 };
  if (devicePrev !== undefined) device.prev = devicePrev;
  return device;
}

/**
 * Validates and normalizes the client part of one event (hostile input).
 *
 * Reports every error of the event, not just the first. Normalizes `time` to
 * UTC milliseconds, defaults `outcome` to `unknown` and `actor.verified` to
 * false, and deep-copies `details`. The schema, caps and codes are in docs/EVENT.md.
 *
 * @param input - one event as parsed from JSON
 * @returns the normalized event, or every field error
 */
export function validateEvent(input: unknown): { ok: true; event: EventInput } | { ok: false; errors: FieldError[] } {
  const c = new Checker();
  if (!isObject(input)) return { ok: false, errors: [{ field: '', code: 'type', message: 'an event must be a JSON object' }] };
  let idIn: Member = ABSENT, timeIn: Member = ABSENT, sourceIn: Member = ABSENT, actionIn: Member = ABSENT, actorIn: Member = ABSENT;
  let targetIn: Member = ABSENT, outcomeIn: Member = ABSENT, reasonIn: Member = ABSENT, hostIn: Member = ABSENT, deviceIn: Member = ABSENT;
  let detailsIn: Member = ABSENT;
  let other = false;
  const own = forInOwn(input, c.clean);
  for (const key in own) {
    switch (key) {
      case 'id': idIn = own.id; break;
      case 'time': timeIn = own.time; break;
      case 'source': sourceIn = own.source; break;
      case 'action': actionIn = own.action; break;
      case 'actor': actorIn = own.actor; break;
      case 'target': targetIn = own.target; break;
      case 'outcome': outcomeIn = own.outcome; break;
      case 'reason': reasonIn = own.reason; break;
      case 'host': hostIn = own.host; break;
      case 'device': deviceIn = own.device; break;
      case 'details': detailsIn = own.details; break;
      default: other = true;
    }
  }
  if (other) {
    for (const key of Object.keys(input)) if (STORE_FIELDS.includes(key)) c.add(key, 'store_field', 'is set by the store, not the client');
    c.unknown(input, '', TOP_LEVEL_FIELDS);
  }

  const id = c.text(idIn, 'id', RULES.id);
  let time: string | undefined;
  if (typeof timeIn === 'string' && canonicalTimeMs(timeIn) !== undefined) {
    // Already in the record's format (what clients mostly send): kept as is, and plainly a valid text.
    c.bound += 6 * timeIn.length + 64;
    time = timeIn;
  } else {
    const timeText = c.text(timeIn, 'time', RULES.time);
    if (timeText !== undefined) {
      try {
        time = formatTime(parseTime(timeText));
      } catch {
        c.add('time', 'format', 'must be an RFC 3339 date-time with an offset, years 0000 to 9999');
      }
    }
  }
  const source = c.text(sourceIn, 'source', RULES.source, true);
  const action = c.text(actionIn, 'action', RULES.action, true);
  const actor = checkActor(c, actorIn);
  const target = checkTarget(c, targetIn);
  const outcome = c.member(outcomeIn, 'outcome', false);
  if (outcome !== undefined && outcome !== 'success' && outcome !== 'failure' && outcome !== 'unknown') {
    c.add('outcome', typeof outcome === 'string' ? 'enum' : 'type', `must be one of ${OUTCOMES.join(', ')}`);
  }
  const reason = c.text(reasonIn, 'reason', RULES.reason);
  const host = c.text(hostIn, 'host', RULES.host);
  const device = checkDevice(c, deviceIn);
  let details: JsonObject | undefined;
  const rawDetails = c.member(detailsIn, 'details', false);
  if (rawDetails !== undefined) {
    if (!isObject(rawDetails)) c.add('details', 'type', 'must be an object');
    else details = c.json(rawDetails, 'details', undefined, 1) as JsonObject;
  }
  if (c.errors.length > 0 || source === undefined || action === undefined || actor === undefined) {
    return { ok: false, errors: c.errors };
  }

  // Optional fields are left out rather than set to undefined, which has no JSON form.
  const event: EventInput = { source, action, actor, outcome: (outcome as Outcome | undefined) ?? 'unknown' };
  if (id !== undefined) event.id = id;
  if (time !== undefined) event.time = time;
  if (target !== undefined) event.target = target;
  if (reason !== undefined) event.reason = reason;
  if (host !== undefined) event.host = host;
  if (device !== undefined) event.device = device;
  if (details !== undefined) event.details = details;
  if (c.bound + 256 > MAX_EVENT_BYTES && canonicalBytes(event).length > MAX_EVENT_BYTES) {
    return { ok: false, errors: [{ field: '', code: 'too_large', message: `must be at most ${MAX_EVENT_BYTES} bytes as canonical JSON` }] };
  }
  return { ok: true, event };
}

export { toRecord, type StoreFields } from './record.js';
export { PreparedEvent, entryBytes, prepareEvent, recordBytes } from './recordBytes.js';

/**
 * Whether a retried event is the stored one (the idempotency check): the same
 * `id`, and the same content once the store's defaults are applied (`time`
 * absent matches a record whose `time` is its `received`). An input without an
 * `id` never matches.
 *
 * @param input - the validated retry
 * @param stored - the record already in the log under that id
 * @returns true when appending `input` again must return `stored.index`
 */
export function sameEvent(input: EventInput, stored: EventRecord): boolean {
  if (input.id === undefined || input.id !== stored.id) return false;
  return canonicalize(toRecord(input, stored)) === canonicalize(stored);
}

/** Random bytes drawn 4 KiB at a time: one getRandomValues call per id cost more than the rest of an append's sequencing. */
const randomPool = new Uint8Array(4096);
let randomAt = randomPool.length;

/** The ASCII codes of each byte's two lower-case hex digits. */
const HEX_CODES = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  HEX_CODES[2 * b] = '0123456789abcdef'.charCodeAt(b >> 4);
  HEX_CODES[2 * b + 1] = '0123456789abcdef'.charCodeAt(b & 15);
}
/** Where the hex digits of each of a UUID's 16 bytes go in its 36 characters. */
const UUID_DIGITS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
/** A UUID's characters, dashes in place, rewritten for each id and decoded once into its string. */
const uuidText = new Uint8Array(36).fill(0x2d);
const latin1 = new TextDecoder('latin1');

function putHexByte(i: number, b: number): void {
  const at = UUID_DIGITS[i]!;
  uuidText[at] = HEX_CODES[2 * b]!;
  uuidText[at + 1] = HEX_CODES[2 * b + 1]!;
}

/**
 * A new UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then 74 random bits from
 * `crypto.getRandomValues`. Ids made in the same millisecond are unordered.
 * Written as ASCII codes and decoded at once: the store makes one per event
 * that comes without an id, and joining hex pieces made a dozen strings each.
 *
 * @param nowMs - the timestamp, default `Date.now()`
 * @returns the lower-case UUID
 * @throws RangeError unless `nowMs` is an integer in 0..2^48 - 1
 */
export function newEventId(nowMs: number = Date.now()): string {
  if (!Number.isInteger(nowMs) || nowMs < 0 || nowMs > 0xffff_ffff_ffff) throw new RangeError('nowMs is an integer in 0..2^48 - 1');
  if (randomAt + 10 > randomPool.length) {
    globalThis.crypto.getRandomValues(randomPool);
    randomAt = 0;
  }
  for (let i = 5, t = nowMs; i >= 0; i--, t = Math.floor(t / 256)) putHexByte(i, t % 256);
  const r = randomAt;
  randomAt += 10;
  putHexByte(6, 0x70 | (randomPool[r]! & 0x0f)); // version 7
  putHexByte(7, randomPool[r + 1]!);
  putHexByte(8, 0x80 | (randomPool[r + 2]! & 0x3f)); // variant 10
  for (let i = 9; i < 16; i++) putHexByte(i, randomPool[r + i - 6]!);
  return latin1.decode(uuidText);
}

const MIN_MS = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
const MAX_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

/**
 * Epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC), the record's time format.
 *
 * @param ms - an integer number of milliseconds since 1970-01-01T00:00:00Z, years 0000 to 9999
 * @returns the timestamp
 * @throws RangeError if `ms` is not an integer in that range
 */
export function formatTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < MIN_MS || ms > MAX_MS) throw new RangeError('ms is an integer within years 0000 to 9999');
  return new Date(ms).toISOString();
}

/** Days of each month, February of a common year. */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (year: number): boolean => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

/** The ASCII digit at `at`, or NaN. */
function digit(text: string, at: number): number {
  const d = text.charCodeAt(at) - 48;
  return d >= 0 && d <= 9 ? d : NaN;
}

/** The number written by two ASCII digits at `at`, or NaN. */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - 48;
  const ones = text.charCodeAt(at + 1) - 48;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : NaN;
}

/**
 * The epoch milliseconds of a valid time already in the record's format
 * (`YYYY-MM-DDTHH:MM:SS.mmmZ`, what {@link formatTime} writes) from year 0100
 * on, else undefined: the common case of {@link parseTime}, without a regex.
 */
function canonicalTimeMs(text: string): number | undefined {
  if (
    text.length !== 24 || text.charCodeAt(4) !== 0x2d || text.charCodeAt(7) !== 0x2d || text.charCodeAt(10) !== 0x54 ||
    text.charCodeAt(13) !== 0x3a || text.charCodeAt(16) !== 0x3a || text.charCodeAt(19) !== 0x2e || text.charCodeAt(23) !== 0x5a
  ) {
    return undefined;
  }
  const year = twoDigits(text, 0) * 100 + twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  const ms = twoDigits(text, 20) * 10 + digit(text, 22);
  // Written so that NaN (a non-digit) fails every test.
  if (!(year >= 100 && month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59 && second <= 59 && ms >= 0)) return undefined;
  if (!(day <= (month === 2 && isLeap(year) ? 29 : MONTH_DAYS[month - 1]!))) return undefined;
  return ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + ms;
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date, year 0 on (H. Hinnant's
 * days_from_civil): what Date.UTC computes, in a few integer operations.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  return era * 146_097 + yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear - 719_468;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,30}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 date-time with a time zone offset (`Z` or `±hh:mm`, `-00:00`
 * taken as UTC) strictly: calendar-valid fields, no leap second (`:60`; neither
 * JavaScript nor Go's time package can hold one), years 0000 to 9999 after
 * applying the offset. Digits beyond milliseconds are truncated.
 *
 * @param text - the timestamp (hostile input)
 * @returns epoch milliseconds
 * @throws LogError `ERR_TIME_MALFORMED` otherwise
 */
export function parseTime(text: string): number {
  const fast = typeof text === 'string' ? canonicalTimeMs(text) : undefined;
  if (fast !== undefined) return fast;
  const m = typeof text === 'string' ? RFC3339.exec(text) : null;
  if (m === null) throw new LogError('ERR_TIME_MALFORMED', 'not an RFC 3339 date-time with an offset');
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const days = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  const offH = m[9] === undefined ? 0 : Number(m[9]);
  const offM = m[10] === undefined ? 0 : Number(m[10]);
  if (month < 1 || month > 12 || day < 1 || day > days[month - 1]! || hour > 23 || minute > 59 || second > 59 || offH > 23 || offM > 59) {
    throw new LogError('ERR_TIME_MALFORMED', 'a date-time field is out of range');
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC, which maps years 0..99 to 1900..1999
  date.setUTCHours(hour, minute, second, Number((m[7] ?? '').padEnd(3, '0').slice(0, 3)));
  const ms = date.getTime() - (m[8] === '-' ? -1 : 1) * (offH * 60 + offM) * 60_000;
  if (ms < MIN_MS || ms > MAX_MS) throw new LogError('ERR_TIME_MALFORMED', 'the date-time is outside years 0000 to 9999');
  return ms;
}
