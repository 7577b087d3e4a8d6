/**
 * The members of a JSON object read straight from its canonical bytes,
 * without parsing the values: the device tracker reads a stored record's
 * `device` (and only for some events more), and hashes a record's sent form
 * by leaving members out of the bytes the store already made canonical.
 *
 * The bytes must be JSON without whitespace, as canonical JSON is (the store
 * writes each record canonical, and `stele verify` checks it): this finds
 * boundaries, it does not validate. Bytes that are not such JSON end in a
 * RangeError, never in a read past their end.
 */

/** One member of an object: its key, and where it lies in the bytes. */
export interface Member {
  key: string;
  /** Offset of the key's opening quote. */
  start: number;
  /** Offset of the value's first byte. */
  value: number;
  /** Offset just past the value. */
  end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

const malformed = (at: number) => new RangeError(`not canonical JSON at offset ${at}`);

/** Past the string whose opening quote is at `at`; a backslash escapes the next byte (\" \\ \uXXXX alike). */
function stringEnd(bytes: Uint8Array, at: number): number {
  for (let i = at + 1; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) i++;
  }
  throw malformed(at);
}

/** Past the value that starts at `at`. */
function valueEnd(bytes: Uint8Array, at: number): number {
  const first = bytes[at];
  if (first === QUOTE) return stringEnd(bytes, at);
  if (first === OPEN || first === OPEN_ARRAY) {
    let depth = 0;
    for (let i = at; i < bytes.length; i++) {
      const c = bytes[i];
      if (c === QUOTE) i = stringEnd(bytes, i) - 1;
      else if (c === OPEN || c === OPEN_ARRAY) depth++;
      else if ((c === CLOSE || c === CLOSE_ARRAY) && --depth === 0) return i + 1;
    }
    throw malformed(at);
  }
  let i = at;
  while (i < bytes.length && bytes[i] !== COMMA && bytes[i] !== CLOSE && bytes[i] !== CLOSE_ARRAY) i++;
  if (i === at || i === bytes.length) throw malformed(at);
  return i;
}

/**
 * Walks the members of the object at `bytes[from]`, calling `visit` with each
 * key's offsets until it returns true; the member it stopped at, if any.
 */
function walk(bytes: Uint8Array, from: number, visit: (start: number, keyEnd: number, value: number, end: number) => boolean): Member | undefined {
  if (bytes[from] !== OPEN) throw malformed(from);
  let at = from + 1;
  if (bytes[at] === CLOSE) return undefined;
  for (;;) {
    if (bytes[at] !== QUOTE) throw malformed(at);
    const keyEnd = stringEnd(bytes, at);
    if (bytes[keyEnd] !== COLON) throw malformed(keyEnd);
    const end = valueEnd(bytes, keyEnd + 1);
    if (visit(at, keyEnd, keyEnd + 1, end)) return { key: latin1(bytes, at + 1, keyEnd - 1), start: at, value: keyEnd + 1, end };
    if (bytes[end] === CLOSE) return undefined;
    if (bytes[end] !== COMMA) throw malformed(end);
    at = end + 1;
  }
}

/**
 * The members of the JSON object at `bytes[from]`, in order.
 *
 * @throws RangeError when the bytes there are not a JSON object without whitespace
 */
export function membersOf(bytes: Uint8Array, from = 0): Member[] {
  const members: Member[] = [];
  walk(bytes, from, (start, keyEnd, value, end) => {
    members.push({ key: latin1(bytes, start + 1, keyEnd - 1), start, value, end });
    return false;
  });
  return members;
}

/**
 * Calls `visit` with the offsets of each member of the object at `bytes[from]`
 * (its key's opening quote, past its key, its value, past its value) until it
 * returns true: {@link membersOf} without an object per member.
 *
 * @throws RangeError when the bytes there are not a JSON object without whitespace
 */
export function eachMember(bytes: Uint8Array, from: number, visit: (start: number, keyEnd: number, value: number, end: number) => boolean): void {
  walk(bytes, from, visit);
}

/** True when the key whose opening quote is at `start` (closing quote at `keyEnd - 1`) is `key` (ASCII, no escapes). */
export function isKey(bytes: Uint8Array, start: number, keyEnd: number, key: string): boolean {
  if (keyEnd - start - 2 !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (bytes[start + 1 + i] !== key.charCodeAt(i)) return false;
  return true;
}

/**
 * The member of the object at `bytes[from]` whose key is `key` (ASCII, no
 * escapes), found without reading the others' keys into strings.
 *
 * @throws RangeError when the bytes there are not a JSON object without whitespace
 */
export function memberOf(bytes: Uint8Array, key: string, from = 0): Member | undefined {
  return walk(bytes, from, (start, keyEnd) => isKey(bytes, start, keyEnd, key));
}

/**
 * The bytes `from .. to` as a string of one character per byte: their text
 * when they are ASCII. Keys are ASCII in records (the schema's names); any
 * other byte only has to differ from them.
 */
export function latin1(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}
