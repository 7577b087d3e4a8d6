/**
 * One pass over an entry's text for verification: it checks that the text is
 * an event record in RFC 8785 form and finds what its index row needs, as
 * positions in the text, without JSON.parse and without building values. It
 * handles only the plain case (printable ASCII without escapes, integers of at
 * most 15 digits, strings where the index row wants strings) and gives up on
 * anything else, so that the caller decides with JSON.parse, canonicalize and
 * indexRowOf. What it accepts, those accept too, with the same row
 * (entryScan.test.ts compares them over random and hostile texts).
 *
 * Entries are hostile: anything may be stored, so every character is checked.
 */
import { parseTime, type EventRecord } from '@stele/log';
import type { IndexRow } from './driver.js';
import { indexRowOf } from './indexRow.js';

/** Fields, numbered: `2 * field` in a scan's spans holds the start of its value in the text, the next slot its end (-1 when absent or null). */
const F_ACTION = 0;
const F_ACTOR = 1;
const F_DETAILS = 2;
const F_HOST = 3;
const F_ID = 4;
const F_OUTCOME = 5;
const F_REASON = 6;
const F_RECEIVED = 7;
const F_SOURCE = 8;
const F_TARGET = 9;
const F_TIME = 10;
const F_ACTOR_EMAIL = 11;
const F_ACTOR_ID = 12;
const F_ACTOR_NAME = 13;
const F_TARGET_ID = 14;
const F_TARGET_NAME = 15;
const F_TARGET_TYPE = 16;
/** Not a span: the record's `index`. */
const F_INDEX = 17;
const FIELDS = 17;

/** Most free text one event contributes (indexRow.ts's TEXT_LIMIT): a longer one is left to indexRowOf, which cuts it. */
const TEXT_LIMIT = 4096;
/** Longer entries are left to the reference path (entries are at most 65,535 bytes). */
const MAX_BYTES = 65_536;
/** Deeper nesting is left to the reference path. */
const MAX_DEPTH = 64;
/** `details` strings deeper than this are not free text (indexRow.ts's collectStrings). */
const DETAILS_DEPTH = 4;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** The parts of a record an index row needs, as found by {@link scanEntry}; valid until the next scan. */
export interface EntryScan {
  /** The scanned text. */
  readonly text: string;
  /** Its characters as bytes (it is ASCII), in a buffer the next scan overwrites. */
  readonly bytes: Uint8Array;
  /** The record's `index`. */
  readonly index: number;
  /** Epoch milliseconds of `time` and `received`. */
  readonly time: number;
  readonly received: number;
  /** Start and end in `text` of each field (see FIELD); -1 when absent. */
  readonly spans: Int32Array;
  /** The free text's `details` strings, start and end in `text`, in the order indexRowOf takes them. */
  readonly details: Int32Array;
  /** How many `details` strings. */
  readonly detailCount: number;
}

/** Field numbers, for readers of {@link EntryScan.spans}. */
export const FIELD = {
  action: F_ACTION,
  id: F_ID,
  outcome: F_OUTCOME,
  source: F_SOURCE,
  actorEmail: F_ACTOR_EMAIL,
  actorId: F_ACTOR_ID,
  actorName: F_ACTOR_NAME,
  targetId: F_TARGET_ID,
  targetName: F_TARGET_NAME,
  targetType: F_TARGET_TYPE,
  reason: F_REASON,
  host: F_HOST,
} as const;

/**
 * The fields whose non-empty values follow the action in the free text, in
 * its order (indexRow.ts's freeText); `details` strings come after them.
 */
export const FREE_TEXT_FIELDS: readonly number[] = [F_ACTOR_NAME, F_ACTOR_EMAIL, F_ACTOR_ID, F_TARGET_ID, F_TARGET_NAME, F_REASON, F_HOST];

// The scan's state: one scan at a time, nothing allocated per entry.
let t = '';
/**
 * The text as bytes (reading a typed array costs half of charCodeAt), which
 * are its characters when it is ASCII; a zero byte after it (never valid
 * where the scan looks) stops every loop at its end.
 */
const scratch = Buffer.alloc(MAX_BYTES + 2);
// After a zero byte: RFC 6962's leaf prefix, so that the leaf hash is taken of the same bytes (leafInput).
const b = new Uint8Array(scratch.buffer, scratch.byteOffset + 1, MAX_BYTES + 1);
const spans = new Int32Array(2 * FIELDS);
/** Every `details` string, up to what the text limit allows (each adds at least its space). */
let details = new Int32Array(2 * 64);
let detailCount = 0;
/** Length of the `details` part of the free text (each string with its space). */
let detailLength = 0;

const scan = {
  text: '',
  bytes: b,
  index: 0,
  // Not 0: times are not small integers, and a field that changes its representation deoptimizes its readers.
  time: NaN,
  received: NaN,
  spans,
  details,
  detailCount: 0,
};

/**
 * Epoch milliseconds of the time at t[s, e), as parseTime gives it (and
 * throwing as it does). Times come in runs within one second (a batch shares
 * its `received`), so each cache keeps the last `YYYY-MM-DDTHH:MM:SS.` that
 * parsed and its milliseconds at `.000`: parseTime adds the digits after it.
 */
class TimeCache {
  readonly #prefix = new Uint8Array(TIME_PREFIX);
  #base = NaN;

  at(s: number, e: number): number {
    const millis = e - s === TIME_LENGTH ? millisOf(s) : -1;
    if (millis >= 0 && this.#base === this.#base) {
      let k = 0;
      while (k < TIME_PREFIX && b[s + k] === this.#prefix[k]) k++;
      if (k === TIME_PREFIX) return this.#base + millis;
    }
    const ms = parseTime(t.slice(s, e));
    if (millis >= 0) {
      // 24 characters ending in three digits and Z that parse: the prefix and `.`, so the digits add.
      this.#prefix.set(b.subarray(s, s + TIME_PREFIX));
      this.#base = ms - millis;
    }
    return ms;
  }
}

/** The record's time format, `YYYY-MM-DDTHH:MM:SS.mmmZ`: its length and where its milliseconds start. */
const TIME_LENGTH = 24;
const TIME_PREFIX = 20;

/** The three digits and Z that end a time of TIME_LENGTH at `s`, as a number; -1 otherwise. */
function millisOf(s: number): number {
  const h = b[s + 20]! - 0x30;
  const d = b[s + 21]! - 0x30;
  const u = b[s + 22]! - 0x30;
  return h >= 0 && h <= 9 && d >= 0 && d <= 9 && u >= 0 && u <= 9 && b[s + 23] === 0x5a ? h * 100 + d * 10 + u : -1;
}

const times = new TimeCache();
const receivedTimes = new TimeCache();

/**
 * Scans an entry's text. Returns its parts when the text is certainly the
 * canonical form of an event record that indexRowOf indexes without
 * throwing; undefined whenever it is not sure (the caller then parses).
 */
export function scanEntry(text: string): EntryScan | undefined {
  // As many bytes as characters only when every character is ASCII (the scan checks that each is).
  if (text.length >= MAX_BYTES || scratch.write(text, 1, 'utf8') !== text.length) return undefined;
  b[text.length] = 0;
  t = text;
  spans.fill(-1);
  detailCount = 0;
  detailLength = 0;
  if (b[0]! !== OPEN_OBJECT || object(0, 0, -1, TOP) !== t.length) return undefined;
  // What indexRowOf needs as strings (and the actor as an object), present.
  if (!(has(F_ACTION) && has(F_ACTOR) && has(F_ID) && has(F_OUTCOME) && has(F_SOURCE) && has(F_TIME) && has(F_RECEIVED) && index >= 0)) return undefined;
  if (freeTextLength() > TEXT_LIMIT) return undefined;
  try {
    scan.time = times.at(spans[2 * F_TIME]!, spans[2 * F_TIME + 1]!);
    scan.received = receivedTimes.at(spans[2 * F_RECEIVED]!, spans[2 * F_RECEIVED + 1]!);
  } catch {
    return undefined; // indexRowOf throws: its message is the reference path's
  }
  scan.text = text;
  scan.index = index;
  scan.details = details;
  scan.detailCount = detailCount;
  return scan;
}

const has = (field: number): boolean => spans[2 * field]! >= 0;

/** The free text's length: the action, each non-empty field after a space, each `details` string after a space. */
function freeTextLength(): number {
  let n = spans[2 * F_ACTION + 1]! - spans[2 * F_ACTION]! + detailLength;
  for (const f of FREE_TEXT_FIELDS) {
    const length = spans[2 * f + 1]! - spans[2 * f]!;
    if (length > 0) n += 1 + length;
  }
  return n;
}

/** The record's `index`, -1 until found. */
let index = -1;

// What an object is: the record, its actor, its target, or anything else.
const OTHER = 0;
const TOP = 1;
const ACTOR = 2;
const TARGET = 3;

/**
 * Where the object at `p` ends, or -1. `collect` is the depth inside
 * `details` (-1 outside it): strings up to DETAILS_DEPTH are free text.
 */
function object(p: number, depth: number, collect: number, kind: number): number {
  if (depth >= MAX_DEPTH) return -1;
  if (kind === TOP) index = -1;
  p++;
  if (b[p]! === CLOSE_OBJECT) return p + 1;
  const inner = collect >= 0 && collect < DETAILS_DEPTH ? collect + 1 : -1;
  let previousStart = -1;
  let previousEnd = -1;
  for (;;) {
    if (b[p]! !== QUOTE) return -1;
    const keyStart = p + 1;
    const keyEnd = stringEnd(keyStart);
    if (keyEnd < 0) return -1;
    // Canonical: keys strictly ascending (by UTF-16 code units; here ASCII).
    if (previousStart >= 0 && !before(previousStart, previousEnd, keyStart, keyEnd)) return -1;
    previousStart = keyStart;
    previousEnd = keyEnd;
    if (b[keyEnd + 1]! !== COLON) return -1;
    p = keyEnd + 2;
    // for-in lists integer-like keys first: their strings would come in another order than the text's.
    if (inner >= 0 && allDigits(keyStart, keyEnd)) return -1;
    const field = kind === OTHER ? -1 : fieldOf(kind, keyCode(keyStart, keyEnd));
    p = field < 0 ? value(p, depth + 1, inner) : member(field, p, depth + 1);
    if (p < 0) return -1;
    const c = b[p]!;
    if (c === CLOSE_OBJECT) return p + 1;
    if (c !== COMMA) return -1;
    p++;
  }
}

/**
 * A key of at most 8 printable ASCII characters (the scan has checked them)
 * as one number: its characters as digits 1 to 95 in base 96, which stays
 * exact (below 2^53). -1 for a longer key.
 */
function keyCode(ks: number, ke: number): number {
  if (ke - ks > 8) return -1;
  let code = 0;
  for (let k = ke - 1; k >= ks; k--) code = code * 96 + (b[k]! - 0x1f);
  return code;
}

/** {@link keyCode} of a word. */
function codeOf(word: string): number {
  let code = 0;
  for (let k = word.length - 1; k >= 0; k--) code = code * 96 + (word.charCodeAt(k) - 0x1f);
  return code;
}

const K_ACTION = codeOf('action');
const K_ACTOR = codeOf('actor');
const K_DETAILS = codeOf('details');
const K_EMAIL = codeOf('email');
const K_HOST = codeOf('host');
const K_ID = codeOf('id');
const K_INDEX = codeOf('index');
const K_NAME = codeOf('name');
const K_OUTCOME = codeOf('outcome');
const K_REASON = codeOf('reason');
const K_RECEIVED = codeOf('received');
const K_SOURCE = codeOf('source');
const K_TARGET = codeOf('target');
const K_TIME = codeOf('time');
const K_TYPE = codeOf('type');

/** A field the index row reads, by the code of its key in an object of `kind`; -1 for any other key. */
function fieldOf(kind: number, code: number): number {
  if (kind === TOP) {
    switch (code) {
      case K_ACTION:
        return F_ACTION;
      case K_ACTOR:
        return F_ACTOR;
      case K_DETAILS:
        return F_DETAILS;
      case K_HOST:
        return F_HOST;
      case K_ID:
        return F_ID;
      case K_INDEX:
        return F_INDEX;
      case K_OUTCOME:
        return F_OUTCOME;
      case K_REASON:
        return F_REASON;
      case K_RECEIVED:
        return F_RECEIVED;
      case K_SOURCE:
        return F_SOURCE;
      case K_TARGET:
        return F_TARGET;
      case K_TIME:
        return F_TIME;
      default:
        return -1;
    }
  }
  if (kind === ACTOR) return code === K_EMAIL ? F_ACTOR_EMAIL : code === K_ID ? F_ACTOR_ID : code === K_NAME ? F_ACTOR_NAME : -1;
  return code === K_ID ? F_TARGET_ID : code === K_NAME ? F_TARGET_NAME : code === K_TYPE ? F_TARGET_TYPE : -1;
}

/** The value of a field the index row reads, at `p`: where it ends, or -1 when it is not of the plain shape. */
function member(field: number, p: number, depth: number): number {
  const c = b[p]!;
  switch (field) {
    case F_INDEX: {
      let n = 0;
      let q = p;
      for (let d = b[q]!; d >= 0x30 && d <= 0x39; d = b[++q]!) n = n * 10 + (d - 0x30);
      // Digits without a leading zero (but 0), at most 15: canonical and exact.
      if (q === p || q - p > 15 || (c === 0x30 && q - p > 1)) return -1;
      index = n;
      return q;
    }
    case F_ACTOR:
      if (c !== OPEN_OBJECT) return -1;
      spans[2 * F_ACTOR] = p;
      return object(p, depth, -1, ACTOR);
    case F_TARGET:
      if (c === OPEN_OBJECT) return object(p, depth, -1, TARGET);
      return nullEnd(p);
    case F_DETAILS: {
      // A top-level empty string is falsy, so indexRowOf leaves it out; nested ones count.
      if (c === QUOTE && b[p + 1]! === QUOTE) return p + 2;
      return value(p, depth, 0);
    }
  }
  if (c === QUOTE) {
    const end = stringEnd(p + 1);
    if (end < 0) return -1;
    spans[2 * field] = p + 1;
    spans[2 * field + 1] = end;
    return end + 1;
  }
  // Required strings are strings; optional ones may be null, which indexRowOf reads as absent.
  if (field === F_ACTION || field === F_ID || field === F_OUTCOME || field === F_RECEIVED || field === F_SOURCE || field === F_TIME) return -1;
  return nullEnd(p);
}

/** Where a `null` at `p` ends, or -1. */
function nullEnd(p: number): number {
  return b[p]! === 0x6e && b[p + 1]! === 0x75 && b[p + 2]! === 0x6c && b[p + 3]! === 0x6c ? p + 4 : -1;
}

/** Where the value at `p` ends, or -1 when it is not plainly canonical. */
function value(p: number, depth: number, collect: number): number {
  const c = b[p]!;
  if (c === QUOTE) {
    const end = stringEnd(p + 1);
    if (end < 0) return -1;
    if (collect >= 0) {
      // One more free-text part: past the limit the reference path cuts the text.
      detailLength += 1 + end - (p + 1);
      if (detailLength > TEXT_LIMIT) return -1;
      if (2 * detailCount === details.length) {
        const grown = new Int32Array(2 * details.length);
        grown.set(details);
        details = grown;
      }
      details[2 * detailCount] = p + 1;
      details[2 * detailCount + 1] = end;
      detailCount++;
    }
    return end + 1;
  }
  if (c === OPEN_OBJECT) return object(p, depth, collect, OTHER);
  if (c === OPEN_ARRAY) return array(p, depth, collect);
  if (c === 0x74) return b[p + 1]! === 0x72 && b[p + 2]! === 0x75 && b[p + 3]! === 0x65 ? p + 4 : -1;
  if (c === 0x66) return b[p + 1]! === 0x61 && b[p + 2]! === 0x6c && b[p + 3]! === 0x73 && b[p + 4]! === 0x65 ? p + 5 : -1;
  if (c === 0x6e) return nullEnd(p);
  return integerEnd(p);
}

function array(p: number, depth: number, collect: number): number {
  if (depth >= MAX_DEPTH) return -1;
  const inner = collect >= 0 && collect < DETAILS_DEPTH ? collect + 1 : -1;
  p++;
  if (b[p]! === CLOSE_ARRAY) return p + 1;
  for (;;) {
    p = value(p, depth + 1, inner);
    if (p < 0) return -1;
    const c = b[p]!;
    if (c === CLOSE_ARRAY) return p + 1;
    if (c !== COMMA) return -1;
    p++;
  }
}

/** Where an integer of at most 15 digits in canonical form ends (not -0), else -1: other numbers are left to the reference path. */
function integerEnd(p: number): number {
  const negative = b[p]! === 0x2d;
  const first = negative ? p + 1 : p;
  let q = first;
  for (let d = b[q]!; d >= 0x30 && d <= 0x39; d = b[++q]!);
  const digits = q - first;
  if (digits === 0 || digits > 15) return -1;
  if (b[first]! === 0x30 && (digits > 1 || negative)) return -1;
  return q;
}

/**
 * Where the string whose characters start at `p` ends (its closing quote),
 * or -1 when it holds anything but printable ASCII without escapes.
 */
function stringEnd(p: number): number {
  while (PLAIN[b[p]!] === 1) p++;
  return b[p] === QUOTE ? p : -1;
}

/** 1 for the bytes a plain string holds as they are: printable ASCII but the quote and backslash (the zero after the text is not). */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c <= 0x7e; c++) PLAIN[c] = c === QUOTE || c === BACKSLASH ? 0 : 1;

function allDigits(s: number, e: number): boolean {
  for (let k = s; k < e; k++) {
    const c = b[k]!;
    if (c < 0x30 || c > 0x39) return false;
  }
  return e > s;
}

/** Whether t[as, ae) sorts strictly before t[bs, be). */
function before(as: number, ae: number, bs: number, be: number): boolean {
  const la = ae - as;
  const lb = be - bs;
  const common = la < lb ? la : lb;
  for (let k = 0; k < common; k++) {
    const x = b[as + k]!;
    const y = b[bs + k]!;
    if (x !== y) return x < y;
  }
  return la < lb;
}

/** The leaf prefix 0x00 and the scanned entry's bytes (valid until the next scan): what its leaf hash is taken of. */
export function leafInput(s: EntryScan): Uint8Array {
  const length = s.text.length + 1;
  // One view per length, made once: entries of a log come in a few hundred lengths.
  let view = leafViews.get(length);
  if (view === undefined) leafViews.set(length, (view = new Uint8Array(scratch.buffer, scratch.byteOffset, length)));
  return view;
}

const leafViews = new Map<number, Uint8Array>();

/** A field's value, or null when absent. */
export function fieldText(s: EntryScan, field: number): string | null {
  const start = s.spans[2 * field]!;
  return start < 0 ? null : s.text.slice(start, s.spans[2 * field + 1]);
}

/**
 * The index row of an entry's bytes, as indexRowOf gives it for their
 * record: scanned when they are plain ASCII, else parsed. `text` is the
 * bytes read a character a byte, when the caller has it already.
 */
export function rowOfEntry(bytes: Uint8Array, text?: string): IndexRow {
  const scan = scanEntry(text ?? bufferOf(bytes).toString('latin1'));
  return scan ? rowOfScan(scan) : indexRowOf(JSON.parse(bufferOf(bytes).toString('utf8')) as EventRecord);
}

const bufferOf = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** The index row of a scan, as indexRowOf gives it for the same text. */
export function rowOfScan(s: EntryScan): IndexRow {
  let text = fieldText(s, F_ACTION)!;
  for (const f of FREE_TEXT_FIELDS) {
    const part = fieldText(s, f);
    if (part) text += ' ' + part;
  }
  for (let k = 0; k < s.detailCount; k++) text += ' ' + s.text.slice(s.details[2 * k], s.details[2 * k + 1]);
  return {
    time: s.time,
    received: s.received,
    source: fieldText(s, F_SOURCE)!,
    action: fieldText(s, F_ACTION)!,
    actorId: fieldText(s, F_ACTOR_ID),
    actorEmail: fieldText(s, F_ACTOR_EMAIL),
    targetType: fieldText(s, F_TARGET_TYPE),
    targetId: fieldText(s, F_TARGET_ID),
    targetName: fieldText(s, F_TARGET_NAME),
    outcome: fieldText(s, F_OUTCOME)!,
    text,
  };
}
