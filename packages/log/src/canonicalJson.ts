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

/** A JSON value as JCS sees it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Nesting deeper than this is refused rather than risking the call stack. */
const MAX_DEPTH = 1000;

/** A lone surrogate: with the `u` flag, paired surrogates match as one code point and not as `Cs`. */
const LONE_SURROGATE = /\p{Cs}/u;

function refuse(path: string, why: string): never {
  throw new LogError('ERR_JSON_NOT_CANONICALIZABLE', `${path} ${why}`);
}

function quote(text: string, path: string): string {
  if (LONE_SURROGATE.test(text)) refuse(path, 'contains a lone surrogate (not valid Unicode)');
  return JSON.stringify(text);
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function serialize(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) refuse(path, `is ${String(value)}, which JSON cannot represent`);
      return JSON.stringify(value); // ES Number::toString; -0 becomes "0" as JCS requires
    case 'string':
      return quote(value, path);
    case 'object':
      if (value === null) return 'null';
      break;
    default:
      refuse(path, `is ${typeof value}, which JSON cannot represent`);
  }
  if (ancestors.has(value)) refuse(path, 'is circular');
  if (ancestors.size >= MAX_DEPTH) refuse(path, `nests deeper than ${MAX_DEPTH} levels`);
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const items: string[] = [];
      for (let i = 0; i < value.length; i++) items.push(serialize(value[i], `${path}[${i}]`, ancestors));
      return `[${items.join(',')}]`;
    }
    if (!isPlainObject(value)) refuse(path, 'is not a plain object');
    const record = value as Record<string, unknown>;
    // Array.prototype.sort without a comparator orders by UTF-16 code units, as JCS requires.
    const keys = Object.keys(record).sort();
    const members: string[] = [];
    for (const key of keys) {
      const at = `${path}.${key}`;
      members.push(`${quote(key, at)}:${serialize(record[key], at, ancestors)}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
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
  return serialize(value, '$', new Set());
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
