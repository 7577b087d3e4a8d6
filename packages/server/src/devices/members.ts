/**
 * The members of a JSON object read straight from its canonical bytes,
 * without parsing the values: the device tracker reads a stored record's
 * `device` (and only for some events more), and hashes a record's sent form
 * by leaving members out of the bytes the store already made canonical.
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

/**
 * The members of the JSON object at `bytes[from]`, in order. The bytes must
 * be well-formed JSON without whitespace, as canonical JSON is (the store
 * writes each record canonical, and `stele verify` checks it): this finds
 * boundaries, it does not validate.
 *
 * @throws RangeError when `bytes[from]` is not an object's `{` or the object does not end
 */
export function membersOf(bytes: Uint8Array, from = 0): Member[] {
  if (bytes[from] !== OPEN) throw new RangeError(`no JSON object at offset ${from}`);
  const members: Member[] = [];
  let depth = 0;
  let key = -1; // the current member's start, while its key is read
  let value = -1;
  let start = -1;
  let name = '';
  for (let i = from; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === QUOTE) {
      const open = i;
      // A string: skip to its closing quote; a backslash escapes the next byte (\" \\ \uXXXX alike).
      for (i++; bytes[i] !== QUOTE; i++) if (bytes[i] === BACKSLASH) i++;
      if (depth === 1 && key >= 0) {
        name = latin1(bytes, open + 1, i);
        start = key;
        key = -1;
      }
    } else if (c === OPEN || c === OPEN_ARRAY) {
      if (++depth === 1) key = i + 1;
    } else if (c === CLOSE || c === CLOSE_ARRAY) {
      if (--depth === 0) {
        if (value >= 0) members.push({ key: name, start, value, end: i });
        return members;
      }
    } else if (depth === 1) {
      if (c === COLON) value = i + 1;
      else if (c === COMMA) {
        members.push({ key: name, start, value, end: i });
        key = i + 1;
        value = -1;
      }
    }
  }
  throw new RangeError('the JSON object does not end');
}

/** Keys are ASCII in records (the schema's names); any other byte only has to differ from them. */
function latin1(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}
