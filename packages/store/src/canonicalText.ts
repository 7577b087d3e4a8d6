/**
 * A quick test that JSON text is already in RFC 8785 form, for verification,
 * which must check every entry. It reads the text once and builds nothing.
 * It only answers "certainly canonical" or "not sure": it assumes the text is
 * valid JSON (the caller has parsed it) and gives up on what canonicalize
 * alone decides (escaped keys, deep nesting, escaped surrogates), so a false
 * answer sends the caller to the exact comparison with canonicalize.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Deeper text is left to canonicalize, which refuses nesting past 1,000 levels. */
const MAX_DEPTH = 64;

/**
 * True only if `text`, valid JSON, equals `canonicalize(JSON.parse(text))`:
 * no white space, members in ascending key order (UTF-16 code units), every
 * number as ECMAScript writes it, and in strings only the escapes
 * JSON.stringify writes (`\" \\ \b \f \n \r \t`, other controls as `\u00xx`).
 */
export function isPlainlyCanonical(text: string): boolean {
  return value(text, 0, 0) === text.length;
}

/** Where the value at `i` ends, or -1 when it is not plainly canonical. */
function value(t: string, i: number, depth: number): number {
  const c = t.charCodeAt(i);
  if (c === QUOTE) return string(t, i);
  if (c === 0x7b) return object(t, i, depth);
  if (c === 0x5b) return array(t, i, depth);
  if (c === 0x74 || c === 0x6e) return i + 4; // true, null: the text is valid JSON
  if (c === 0x66) return i + 5; // false
  return number(t, i);
}

function string(t: string, i: number): number {
  for (i++; ; i++) {
    const c = t.charCodeAt(i);
    if (c === QUOTE) return i + 1;
    if (c !== BACKSLASH) continue; // raw: never a lone surrogate in text decoded from UTF-8
    const e = t.charCodeAt(++i);
    if (e === QUOTE || e === BACKSLASH || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) continue;
    // Otherwise only \u00xx (lower-case hex) for a control character without a short form.
    if (e !== 0x75 || t.charCodeAt(i + 1) !== 0x30 || t.charCodeAt(i + 2) !== 0x30) return -1;
    const high = t.charCodeAt(i + 3);
    const low = t.charCodeAt(i + 4);
    const code = (high === 0x30 ? 0 : high === 0x31 ? 16 : NaN) + (low >= 0x30 && low <= 0x39 ? low - 0x30 : low >= 0x61 && low <= 0x66 ? low - 0x57 : NaN);
    if (!(code >= 0) || code === 8 || code === 9 || code === 10 || code === 12 || code === 13) return -1;
    i += 4;
  }
}

function number(t: string, i: number): number {
  const start = i;
  if (t.charCodeAt(i) === 0x2d) i++;
  const first = i;
  let integer = true;
  for (;; i++) {
    const c = t.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) continue;
    if (c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d) integer = false;
    else break;
  }
  const digits = i - first;
  if (digits === 0) return -1;
  // A short integer is its own canonical form unless it is -0 (written 0).
  if (integer && digits <= 15 && (t.charCodeAt(first) !== 0x30 || (digits === 1 && first === start))) return i;
  const token = t.slice(start, i);
  return String(Number(token)) === token ? i : -1;
}

function object(t: string, i: number, depth: number): number {
  if (depth >= MAX_DEPTH) return -1;
  i++;
  if (t.charCodeAt(i) === 0x7d) return i + 1;
  let previousStart = -1;
  let previousEnd = -1;
  for (;;) {
    if (t.charCodeAt(i) !== QUOTE) return -1;
    const keyStart = i + 1;
    const keyEnd = string(t, i) - 1;
    if (keyEnd < 0) return -1;
    // An escaped key's order is not its text's: left to canonicalize.
    for (let k = keyStart; k < keyEnd; k++) if (t.charCodeAt(k) === BACKSLASH) return -1;
    if (previousStart >= 0 && !before(t, previousStart, previousEnd, keyStart, keyEnd)) return -1;
    previousStart = keyStart;
    previousEnd = keyEnd;
    if (t.charCodeAt(keyEnd + 1) !== 0x3a) return -1;
    i = value(t, keyEnd + 2, depth + 1);
    if (i < 0) return -1;
    const c = t.charCodeAt(i);
    if (c === 0x7d) return i + 1;
    if (c !== 0x2c) return -1;
    i++;
  }
}

function array(t: string, i: number, depth: number): number {
  if (depth >= MAX_DEPTH) return -1;
  i++;
  if (t.charCodeAt(i) === 0x5d) return i + 1;
  for (;;) {
    i = value(t, i, depth + 1);
    if (i < 0) return -1;
    const c = t.charCodeAt(i);
    if (c === 0x5d) return i + 1;
    if (c !== 0x2c) return -1;
    i++;
  }
}

/** Whether t[as, ae) sorts strictly before t[bs, be) by UTF-16 code units. */
function before(t: string, as: number, ae: number, bs: number, be: number): boolean {
  const la = ae - as;
  const lb = be - bs;
  const common = la < lb ? la : lb;
  for (let k = 0; k < common; k++) {
    const x = t.charCodeAt(as + k);
    const y = t.charCodeAt(bs + k);
    if (x !== y) return x < y;
  }
  return la < lb;
}
