/**
 * The leaf entry of an event record: its RFC 8785 canonical JSON as UTF-8,
 * written straight into bytes on the append path.
 *
 * The writer knows the record's members and their order, so it neither lists
 * nor sorts the record's keys (only `details` is walked generically), and it
 * builds no string: in V8 a JSON text made by joining strings costs a tree of
 * pieces, a flattening and an encoding, and the garbage of all three, which is
 * several times what copying the characters costs. Whatever it is not sure of
 * (a record not in toRecord's shape, a value canonicalize refuses) it leaves
 * to `canonicalize`, which decides and explains a refusal.
 */
import { utf8 } from './bytes.js';
import { canonicalize } from './canonicalJson.js';
import type { EventInput, EventRecord } from './event.js';
import { keysSorted, prototypeClean, sortKeys } from './members.js';
import { checkStoreFields, toRecord, type StoreFields } from './record.js';
import { hasLoneSurrogate } from './unicode.js';

/** Records are written into chunks of this size, as Node's Buffer pool does for small buffers. */
const CHUNK = 8192;
/** A record larger than this gets an array of its own rather than a view keeping a chunk alive. */
const OWN_ARRAY = 2048;
/** Deeper `details` are left to canonicalize, which refuses nesting past 1,000 levels. */
const MAX_DEPTH = 64;

const encoder = new TextEncoder();
let chunk = new Uint8Array(CHUNK);
/** Over `chunk`, for writing four bytes at once. */
let view = new DataView(chunk.buffer);
/** Where the next byte goes. */
let at = 0;
/** Where the record being written starts. */
let start = 0;
/** Set while a record is written (a getter could call back in). */
let busy = false;

/** Thrown when the record is not in toRecord's shape, or holds what canonicalize refuses. */
const UNSURE = Symbol('unsure');

/** Writes go to `next` from now on (and `view` with them). */
function use(next: Uint8Array<ArrayBuffer>): void {
  chunk = next;
  view = new DataView(next.buffer, next.byteOffset, next.byteLength);
}

/** A new chunk; the record written so far is copied to its start. Leaves room for `n` more bytes. */
function grow(n: number): void {
  const next = new Uint8Array(Math.max(CHUNK, 2 * (at - start + n)));
  next.set(chunk.subarray(start, at));
  at -= start;
  start = 0;
  use(next);
}

/**
 * Bytes known in advance (punctuation and keys), up to 24, as little-endian
 * 32-bit words: written four at a time, in straight-line code.
 */
interface Lead {
  readonly length: number;
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
  readonly w4: number;
  readonly w5: number;
}

function lead(text: string): Lead {
  const b = encoder.encode(text);
  if (b.length > 24) throw new RangeError(`a lead has at most 24 bytes: ${text}`);
  const w = [0, 0, 0, 0, 0, 0];
  for (let i = 0; i < b.length; i++) w[i >> 2]! |= b[i]! << (8 * (i & 3));
  return { length: b.length, w0: w[0]!, w1: w[1]!, w2: w[2]!, w3: w[3]!, w4: w[4]!, w5: w[5]! };
}

/** Writes a lead (and padding up to a multiple of 4 bytes past it, which the next write covers). */
function put(l: Lead): void {
  if (at + 24 > chunk.length) grow(24);
  const v = view;
  const o = at;
  const n = l.length;
  v.setInt32(o, l.w0, true);
  if (n > 4) {
    v.setInt32(o + 4, l.w1, true);
    if (n > 8) {
      v.setInt32(o + 8, l.w2, true);
      if (n > 12) {
        v.setInt32(o + 12, l.w3, true);
        if (n > 16) {
          v.setInt32(o + 16, l.w4, true);
          if (n > 20) v.setInt32(o + 20, l.w5, true);
        }
      }
    }
  }
  at = o + n;
}

/** -1 for the ASCII characters JSON escapes (controls, `"`, `\`), else 0. */
const SPECIAL = new Int8Array(128);
for (let c = 0; c < 128; c++) SPECIAL[c] = c < 0x20 || c === 0x22 || c === 0x5c ? -1 : 0;

/** Writes a JSON string's content as JCS writes it, without the quotes. */
function text(value: unknown): void {
  if (typeof value !== 'string') throw UNSURE;
  const n = value.length;
  if (at + n > chunk.length) grow(n);
  const out = chunk;
  const o = at;
  // Copied as printable ASCII, its own UTF-8 needing no escape; whether it was is checked once, after.
  let special = 0;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    special |= SPECIAL[c & 127]! | ((127 - c) >> 31); // and -1 past ASCII, without a branch
    out[o + i] = c;
  }
  if (special === 0) at = o + n;
  else textSlow(value);
}

/** A string with an escape or a character outside ASCII. */
function textSlow(value: string): void {
  if (hasLoneSurrogate(value)) throw UNSURE;
  // JSON.stringify escapes exactly as JCS for well-formed strings.
  const escaped = JSON.stringify(value).slice(1, -1);
  if (at + 3 * escaped.length > chunk.length) grow(3 * escaped.length); // UTF-8 bytes per UTF-16 unit
  at += encoder.encodeInto(escaped, chunk.subarray(at)).written;
}

/** Writes a finite number as JCS writes it (ES Number::toString, -0 as 0). */
function num(value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw UNSURE;
  if (!(Number.isSafeInteger(value) && value >= 0)) return text(String(value));
  // A safe non-negative integer (index, seq, most of details) is its decimal digits; -0 is written 0.
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  if (at + digits > chunk.length) grow(digits);
  for (let i = at + digits - 1, rest = value; i >= at; i--, rest = Math.floor(rest / 10)) chunk[i] = 48 + (rest % 10);
  at += digits;
}

/** `value` if it is a plain object (as canonicalize accepts one), else UNSURE. */
function plain(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw UNSURE;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw UNSURE;
  return value as Record<string, unknown>;
}

/**
 * UNSURE unless `o` has exactly `count` members, so that none goes unwritten.
 * Counted with for-in, which allocates nothing; it also lists inherited
 * enumerable keys, which only makes the count differ (canonicalize ignores them).
 */
function expectMembers(o: object, count: number): void {
  let n = 0;
  for (const _ in o) n++;
  if (n !== count) throw UNSURE;
}

/** 1 for a member that is set, else 0: for counting members. */
const set = (value: unknown): number => (value === undefined ? 0 : 1);

// Each lead carries the closing quote of the string member before it, if
// any, the separator, the key, and the opening quote of a string value.
const QUOTE = lead('"');
const CLOSE = lead('}');
const CLOSE_STRING = lead('"}');
const OPEN_MEMBER = lead('{"');
const NEXT_MEMBER = lead(',"');
const NEXT_AFTER_STRING = lead('","');
const COLON = lead('":');
const COLON_STRING = lead('":"');
const OPEN_ARRAY = lead('[');
const CLOSE_ARRAY = lead(']');
const COMMA = lead(',');
const EMPTY_OBJECT = lead('{}');
const NULL = lead('null');
const TRUE = lead('true');
const FALSE = lead('false');

/** Where a member goes: after a string member (its closing quote still to write), after another member, or first. */
type After = 0 | 1 | 2;
const AFTER_STRING = 0;
const AFTER_OTHER = 1;
const FIRST = 2;
/** A member's three lead-ins, indexed by where it goes. */
const leads = (key: string): Lead[] => [lead(`","${key}`), lead(`,"${key}`), lead(`{"${key}`)];
const A_EMAIL = lead('{"email":"');
const A_GROUPS = leads('groups":[');
const A_ID = leads('id":"');
const A_IDP = leads('idp":"');
const A_NAME = leads('name":"');
const A_VERIFIED = leads('verified":true}');
const A_NOT_VERIFIED = leads('verified":false}');
const R_ACTION = lead('{"action":"');
const R_ACTOR = lead('","actor":');
const R_DETAILS = lead(',"details":');
const R_DEVICE = lead(',"device":{"id":"');
const R_PREV = lead('","prev":"');
const R_SEQ = lead('","seq":');
const R_HOST = lead(',"host":"');
const R_ID = [lead('","id":"'), lead(',"id":"')];
const R_INDEX = lead('","index":');
const R_OUTCOME = lead(',"outcome":"');
const R_REASON = lead('","reason":"');
const R_RECEIVED = lead('","received":"');
const R_SOURCE = lead('","source":"');
const R_SUBMITTER = lead('","submitter":{"id":"');
const R_TARGET = [lead('","target":'), lead(',"target":')];
const T_ID = lead('{"id":"');
const NAME = [lead('","name":"'), lead('{"name":"')];
const TYPE = [lead('","type":"'), lead('{"type":"')];
const R_TIME = [lead('","time":"'), lead(',"time":"')];
const R_END = lead('","v":1}');

/** Writes any JSON value (`details`) canonically: keys sorted by UTF-16 code units. */
function value(v: unknown, depth: number): void {
  switch (typeof v) {
    case 'string':
      put(QUOTE);
      text(v);
      return put(QUOTE);
    case 'number':
      return num(v);
    case 'boolean':
      return put(v ? TRUE : FALSE);
    case 'object':
      if (v === null) return put(NULL);
      break;
    default:
      throw UNSURE;
  }
  if (depth >= MAX_DEPTH) throw UNSURE;
  if (Array.isArray(v)) {
    put(OPEN_ARRAY);
    for (let i = 0; i < v.length; i++) {
      if (i > 0) put(COMMA);
      value(v[i], depth + 1);
    }
    return put(CLOSE_ARRAY);
  }
  const o = plain(v);
  let after: After = FIRST;
  // Validation copies `details` without a prototype, with sorted keys: listed without making an array.
  if ((Object.getPrototypeOf(o) === null || prototypeClean()) && keysSorted(o)) {
    for (const k in o) after = member(o, k, after, depth);
  } else {
    for (const k of sortKeys(Object.keys(o))) after = member(o, k, after, depth);
  }
  if (after === FIRST) put(EMPTY_OBJECT);
  else put(after === AFTER_STRING ? CLOSE_STRING : CLOSE);
}

/** Writes the member `k` of `o` where `after` says; returns where the next goes. */
function member(o: Record<string, unknown>, k: string, after: After, depth: number): After {
  const m = o[k];
  put(after === AFTER_STRING ? NEXT_AFTER_STRING : after === AFTER_OTHER ? NEXT_MEMBER : OPEN_MEMBER);
  text(k);
  if (typeof m === 'string') {
    put(COLON_STRING);
    text(m);
    return AFTER_STRING;
  }
  put(COLON);
  value(m, depth + 1);
  return AFTER_OTHER;
}

function actor(v: unknown): void {
  const a = plain(v);
  expectMembers(a, set(a.email) + set(a.groups) + set(a.id) + set(a.idp) + set(a.name) + 1);
  let after: After = FIRST;
  if (a.email !== undefined) {
    put(A_EMAIL);
    text(a.email);
    after = AFTER_STRING;
  }
  if (a.groups !== undefined) {
    const groups = a.groups;
    if (!Array.isArray(groups)) throw UNSURE;
    put(A_GROUPS[after]!);
    for (let i = 0; i < groups.length; i++) {
      put(i === 0 ? QUOTE : NEXT_AFTER_STRING);
      text(groups[i]);
    }
    if (groups.length > 0) put(QUOTE);
    put(CLOSE_ARRAY);
    after = AFTER_OTHER;
  }
  if (a.id !== undefined) {
    put(A_ID[after]!);
    text(a.id);
    after = AFTER_STRING;
  }
  if (a.idp !== undefined) {
    put(A_IDP[after]!);
    text(a.idp);
    after = AFTER_STRING;
  }
  if (a.name !== undefined) {
    put(A_NAME[after]!);
    text(a.name);
    after = AFTER_STRING;
  }
  if (a.verified === true) put(A_VERIFIED[after]!);
  else if (a.verified === false) put(A_NOT_VERIFIED[after]!);
  else throw UNSURE;
}

function device(v: unknown): void {
  const d = plain(v);
  expectMembers(d, 2 + set(d.prev));
  put(R_DEVICE);
  text(d.id);
  if (d.prev !== undefined) {
    put(R_PREV);
    text(d.prev);
  }
  put(R_SEQ);
  num(d.seq);
  put(CLOSE);
}

/** The members of a submitter (id, name, type) or target (id, name, type), all strings; `id` is required in a submitter. */
function idNameType(o: Record<string, unknown>, first: Lead): void {
  if (o.id !== undefined) {
    put(first);
    text(o.id);
  }
  if (o.name !== undefined) {
    put(NAME[o.id === undefined ? 1 : 0]!);
    text(o.name);
  }
  put(TYPE[o.id === undefined && o.name === undefined ? 1 : 0]!);
  text(o.type);
  put(CLOSE_STRING);
}

/** Writes the members before `id` (action to host), a host's closing quote left to the next lead. */
function head(e: Record<string, unknown>): void {
  put(R_ACTION);
  text(e.action);
  put(R_ACTOR);
  actor(e.actor);
  if (e.details !== undefined) {
    put(R_DETAILS);
    value(e.details, 1);
  }
  if (e.device !== undefined) device(e.device);
  if (e.host !== undefined) {
    put(R_HOST);
    text(e.host);
  }
}

/** A target as a plain object of its members, or UNSURE. */
function targetOf(v: unknown): Record<string, unknown> {
  const t = plain(v);
  expectMembers(t, 1 + set(t.id) + set(t.name));
  return t;
}

function writeRecord(record: EventRecord): void {
  const r = plain(record);
  // The required members (action, actor, id, index, outcome, received, source, time, v) and the optional ones set.
  expectMembers(r, 9 + set(r.details) + set(r.device) + set(r.host) + set(r.reason) + set(r.submitter) + set(r.target));
  if (r.v !== 1) throw UNSURE;
  head(r);
  put(R_ID[r.host === undefined ? 1 : 0]!);
  text(r.id);
  put(R_INDEX);
  num(r.index);
  put(R_OUTCOME);
  text(r.outcome);
  if (r.reason !== undefined) {
    put(R_REASON);
    text(r.reason);
  }
  put(R_RECEIVED);
  text(r.received);
  put(R_SOURCE);
  text(r.source);
  let after: After = AFTER_STRING;
  if (r.submitter !== undefined) {
    const s = plain(r.submitter);
    expectMembers(s, 2 + set(s.name));
    if (s.id === undefined) throw UNSURE;
    idNameType(s, R_SUBMITTER);
    after = AFTER_OTHER;
  }
  if (r.target !== undefined) {
    put(R_TARGET[after]!);
    idNameType(targetOf(r.target), T_ID);
    after = AFTER_OTHER;
  }
  put(R_TIME[after]!);
  text(r.time);
  put(R_END);
}

/** Starts a record in the chunk; false when a write is under way already (a getter called back in). */
function begin(): boolean {
  if (busy) return false;
  busy = true;
  // A detached chunk (someone transferred a view's buffer) has length 0.
  if (chunk.length === 0) {
    use(new Uint8Array(CHUNK));
    at = 0;
  }
  start = at;
  return true;
}

/** The record just written, as a view of the chunk or (when large) an array of its own. */
function end(): Uint8Array {
  if (at - start > OWN_ARRAY) {
    const own = chunk.slice(start, at);
    at = start;
    if (chunk.length > CHUNK) {
      // Grown for this record: small records go back to chunks of the usual size.
      use(new Uint8Array(CHUNK));
      at = 0;
    }
    return own;
  }
  return chunk.subarray(start, at);
}

/**
 * The leaf entry of a record made by `toRecord`: its RFC 8785 canonical JSON
 * as UTF-8, equal to `canonicalBytes(record)`.
 *
 * The result is a view of a chunk shared with other records' bytes (unless the
 * record is large): its `buffer` is that chunk, to be copied, never transferred.
 *
 * @param record - a record from `toRecord`
 * @returns the canonical bytes
 * @throws LogError `ERR_JSON_NOT_CANONICALIZABLE` as `canonicalBytes` (never for a record of a validated event)
 */
export function recordBytes(record: EventRecord): Uint8Array {
  if (!begin()) return utf8(canonicalize(record));
  try {
    writeRecord(record);
  } catch (err) {
    at = start;
    if (err !== UNSURE) throw err;
    return utf8(canonicalize(record));
  } finally {
    busy = false;
  }
  return end();
}

/**
 * An event's own members written canonically ahead of its sequencing, in the
 * runs that the store's members (id, index, received, submitter, time when
 * the event has none) fall between: the head (action to host), the outcome
 * and reason, the source, the target. Its entry is then these bytes copied
 * with the store's members written between them (`entryBytes`), so the event
 * object need not be kept until the batch is sequenced, nor walked twice.
 */
export class PreparedEvent {
  /** @internal */
  constructor(
    /** The client's id, if it gave one. */
    readonly id: string | undefined,
    /** The client's time, if it gave one (else the record's time is `received`). */
    readonly time: string | undefined,
    /** The runs one after another, or undefined when the event is kept whole in `input`. */
    readonly runs: Uint8Array | undefined,
    /** Where the outcome, the source and the target runs start in `runs`. */
    readonly middle: number,
    readonly source: number,
    readonly target: number,
    /** The event, kept when the writer was not sure of it: its entry is then made by canonicalize. */
    readonly input: EventInput | undefined,
  ) {}
}

const P_OUTCOME = lead('"outcome":"');
const P_SOURCE = lead('"source":"');
const P_TARGET = lead('"target":');
const E_ID = lead(',"id":"');
const E_RECEIVED = lead(',"received":"');
const E_SUBMITTER = lead(',"submitter":');
const E_TIME = lead(',"time":"');
const QUOTE_COMMA = lead('",');

/** UNSURE unless `value` is absent or text that `text` writes without doubt. */
function sureText(value: unknown): void {
  if (value !== undefined && (typeof value !== 'string' || hasLoneSurrogate(value))) throw UNSURE;
}

/**
 * An event's runs, ready to become its entry once the store has sequenced it.
 *
 * @param event - the output of `validateEvent`
 * @returns the prepared event (its runs view a chunk shared with other records' bytes)
 */
export function prepareEvent(event: EventInput): PreparedEvent {
  const whole = () => new PreparedEvent(event.id, event.time, undefined, 0, 0, 0, event);
  if (!begin()) return whole();
  let middle = 0;
  let source = 0;
  let target = 0;
  try {
    const e = plain(event);
    // The required members (action, actor, outcome, source) and the optional ones set.
    expectMembers(e, 4 + set(e.id) + set(e.time) + set(e.details) + set(e.device) + set(e.host) + set(e.reason) + set(e.target));
    sureText(e.id);
    sureText(e.time);
    head(e);
    if (e.host !== undefined) put(QUOTE);
    middle = at - start;
    put(P_OUTCOME);
    text(e.outcome);
    if (e.reason !== undefined) {
      put(R_REASON);
      text(e.reason);
    }
    put(QUOTE);
    source = at - start;
    put(P_SOURCE);
    text(e.source);
    put(QUOTE);
    target = at - start;
    if (e.target !== undefined) {
      put(P_TARGET);
      idNameType(targetOf(e.target), T_ID);
    }
  } catch (err) {
    at = start;
    if (err !== UNSURE) throw err;
    return whole();
  } finally {
    busy = false;
  }
  return new PreparedEvent(event.id, event.time, end(), middle, source, target, undefined);
}

/** Copies `runs[from, to)` to the chunk. */
function copy(runs: Uint8Array, from: number, to: number): void {
  const n = to - from;
  if (at + n > chunk.length) grow(n);
  if (n < 32) {
    const out = chunk;
    for (let i = 0; i < n; i++) out[at + i] = runs[from + i]!;
  } else {
    chunk.set(runs.subarray(from, to), at);
  }
  at += n;
}

/**
 * The leaf entry of a prepared event with the store's members: equal to
 * `recordBytes(toRecord(event, store))`.
 *
 * @param prepared - from `prepareEvent(event)`
 * @param store - the store's fields, as toRecord takes them
 * @returns the canonical bytes, a view as recordBytes returns
 * @throws RangeError as toRecord does, or when the store's fields are not text
 */
export function entryBytes(prepared: PreparedEvent, store: StoreFields): Uint8Array {
  const { runs, input } = prepared;
  if (runs === undefined) return utf8(canonicalize(toRecord(input!, store)));
  // A detached view (someone transferred its chunk's buffer) has length 0: never write an entry from it.
  if (runs.length < prepared.target) throw new RangeError("the prepared event's bytes were transferred away");
  checkStoreFields(prepared.id, store);
  if (!begin()) throw new RangeError('entryBytes was called while a record was being written');
  try {
    copy(runs, 0, prepared.middle);
    put(E_ID);
    text(prepared.id ?? store.id);
    put(R_INDEX);
    num(store.index);
    put(COMMA);
    copy(runs, prepared.middle, prepared.source);
    put(E_RECEIVED);
    text(store.received);
    put(QUOTE_COMMA);
    copy(runs, prepared.source, prepared.target);
    const sub = store.submitter;
    if (sub !== undefined) {
      put(E_SUBMITTER);
      // The record's submitter is a copy of these three members (toRecord).
      idNameType(sub as unknown as Record<string, unknown>, T_ID);
    }
    if (prepared.target < runs.length) {
      put(COMMA);
      copy(runs, prepared.target, runs.length);
    }
    put(E_TIME);
    text(prepared.time ?? store.received);
    put(R_END);
  } catch (err) {
    at = start;
    if (err === UNSURE) throw new RangeError('the store fields are not text');
    throw err;
  } finally {
    busy = false;
  }
  return end();
}
