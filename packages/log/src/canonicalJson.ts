/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): one byte sequence for one JSON
 * value, so that the leaf hash of an event does not depend on who serialized it.
 *
 * JCS is ECMAScript's own JSON serialization with object keys sorted by UTF-16
 * code units, restricted to I-JSON: JavaScript's `JSON.stringify` already writes
 * numbers (ES `Number::toString`) and strings (`\b \t \n \f \r \" \\`, other
 * controls as lower-case `\u00XX`, everything else verbatim) exactly as JCS
 * requires, so this module only adds the sorting and refuses what has no JCS form.
 */
import { utf8 } from './bytes.js';
import { LogError } from './errors.js';
import { sortKeys } from './members.js';
import { hasLoneSurrogate } from './unicode.js';

/** A JSON value as JCS sees it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Nesting deeper than this is refused rather than risking the call stack (and it ends cycles). */
const MAX_DEPTH = 1000;

/** Thrown inside; the path is built only when something is refused. */
class Refusal {
  constructor(
    readonly why: string,
    readonly path: (string | number)[] = [],
  ) {}
}

/** What JSON.stringify escapes, and surrogates: a string without any is written between quotes as it is. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const SPECIAL = /["\\\u0000-\u001f\uD800-\uDFFF]/;

function quote(text: string): string {
  if (!SPECIAL.test(text)) return '"' + text + '"';
  if (hasLoneSurrogate(text)) throw new Refusal('contains a lone surrogate (not valid Unicode)');
  return JSON.stringify(text);
}

function serialize(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      if (!Number.isFinite(value)) throw new Refusal(`is ${String(value)}, which JSON cannot represent`);
      return String(value); // ES Number::toString, as JSON.stringify writes it; -0 becomes "0" as JCS requires
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      break;
    default:
      throw new Refusal(`is ${typeof value}, which JSON cannot represent`);
  }
  if (depth >= MAX_DEPTH) throw new Refusal(`nests deeper than ${MAX_DEPTH} levels (or is circular)`);
  let key: string | number = 0;
  try {
    if (Array.isArray(value)) {
      let out = '[';
      for (key = 0; key < value.length; key++) out += (key === 0 ? '' : ',') + serialize(value[key], depth + 1);
      return out + ']';
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw new Refusal('is not a plain object');
    const record = value as Record<string, unknown>;
    // By UTF-16 code units, as JCS requires.
    const keys = sortKeys(Object.keys(record));
    let out = '{';
    for (let i = 0; i < keys.length; i++) {
      key = keys[i]!;
      out += (i === 0 ? '' : ',') + quote(key) + ':' + serialize(record[key], depth + 1);
    }
    return out + '}';
  } catch (err) {
    if (err instanceof Refusal) err.path.unshift(key);
    throw err;
  }
}

function pathText(path: readonly (string | number)[]): string {
  return '$' + path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

/**
 * The RFC 8785 canonical JSON text of a value.
 *
 * Accepts `null`, booleans, finite numbers, strings, arrays and plain objects
 * (prototype `Object.prototype` or `null`; symbol keys are ignored, as in
 * `JSON.stringify`).
 *
 * @param value - the value to canonicalize
 * @returns the canonical JSON text
 * @throws LogError `ERR_JSON_NOT_CANONICALIZABLE` for NaN, ±Infinity, `undefined`
 *   (also as an object member or array element), functions, symbols, bigints,
 *   non-plain objects (Date, Map, typed arrays, ...), strings or keys holding a
 *   lone surrogate, cycles, and nesting deeper than 1000 levels.
 */
export function canonicalize(value: unknown): string {
  try {
    return serialize(value, 0);
  } catch (err) {
    if (err instanceof Refusal) throw new LogError('ERR_JSON_NOT_CANONICALIZABLE', `${pathText(err.path)} ${err.why}`);
    throw err;
  }
}

/**
 * The UTF-8 bytes of {@link canonicalize}'s text: the form that is hashed.
 *
 * @param value - the value to canonicalize
 * @returns the canonical JSON as UTF-8
 * @throws LogError `ERR_JSON_NOT_CANONICALIZABLE` as {@link canonicalize}
 */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(canonicalize(value));
}
