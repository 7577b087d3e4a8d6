/**
 * Duplicate keys in JSON text. `JSON.parse` keeps the last of two members
 * with the same key, while a person reading the file sees the first: a record
 * edited to say `"reason": "forged", "reason": "real"` hashes as the real one
 * and reads as the forged one. This scanner finds such keys in the text,
 * comparing keys as `JSON.parse` decodes them (`"\u0072eason"` is `"reason"`).
 * Zero dependencies, no recursion (any depth), no Node built-ins.
 */

/** One step of a path into a JSON value: a member's key or an element's index. */
export type JsonPathSegment = string | number;

/** A key an object of the text holds twice. */
export interface DuplicateKey {
  /** The key, decoded. */
  key: string;
  /** Where the object that repeats it is: `[]` for the top-level value, `['events', 0, 'record']`, ... */
  path: JsonPathSegment[];
}

interface Frame {
  /** The keys seen so far in an object; undefined for an array. */
  keys: Set<string> | undefined;
  /** The current member's key, or the current element's index. */
  at: JsonPathSegment;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** A run of string characters with nothing to check: no quote, backslash or (forbidden) control character. */
// eslint-disable-next-line no-control-regex -- stopping at control characters is the point
const PLAIN = /[^"\\\u0000-\u001f]*/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

const syntax = (at: number, expected: string) => new SyntaxError(`JSON: expected ${expected} at position ${at}`);

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
    i++;
  }
}

/** The position just past the string that starts (with its quote) at `i`. */
function stringEnd(text: string, i: number): number {
  let j = i + 1;
  for (;;) {
    PLAIN.lastIndex = j;
    PLAIN.test(text);
    j = PLAIN.lastIndex;
    const c = text.charCodeAt(j);
    if (c === QUOTE) return j + 1;
    if (c !== BACKSLASH) throw syntax(j, Number.isNaN(c) ? 'the end of a string' : 'no control character in a string');
    const escape = text[j + 1] ?? '';
    if (escape === 'u' && HEX4.test(text.slice(j + 2, j + 6))) j += 6;
    else if (ESCAPES.has(escape)) j += 2;
    else throw syntax(j, 'a valid escape');
  }
}

/** The position just past the string, number or literal at `i`. */
function scalarEnd(text: string, i: number): number {
  if (text.charCodeAt(i) === QUOTE) return stringEnd(text, i);
  NUMBER.lastIndex = i;
  if (NUMBER.test(text)) return NUMBER.lastIndex;
  for (const literal of ['true', 'false', 'null']) if (text.startsWith(literal, i)) return i + literal.length;
  throw syntax(i, 'a value');
}

/**
 * Finds the first key that an object of `text` holds twice, in the order of
 * the text. Keys are compared decoded, so escapes do not hide a duplicate;
 * text inside string values is never taken for a key.
 *
 * @param text - JSON text (untrusted); parse it with `JSON.parse` first for the standard error on text that is not JSON
 * @returns the repeated key and where its object is, or undefined when every object's keys are distinct
 * @throws SyntaxError when the text is not JSON (checked up to the first duplicate)
 */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  const stack: Frame[] = [];
  // value: a value is due; first*: just past '{' or '[', where the container may close at once.
  let state: 'value' | 'firstValue' | 'key' | 'firstKey' | 'colon' | 'after' = 'value';
  let i = 0;
  for (;;) {
    i = skipSpace(text, i);
    const c = text[i];
    const top = stack[stack.length - 1];
    switch (state) {
      case 'firstValue':
      case 'value':
        if (state === 'firstValue' && c === ']') {
          stack.pop();
          i++;
          state = 'after';
        } else if (c === '{') {
          stack.push({ keys: new Set(), at: '' });
          i++;
          state = 'firstKey';
        } else if (c === '[') {
          stack.push({ keys: undefined, at: 0 });
          i++;
          state = 'firstValue';
        } else {
          i = scalarEnd(text, i);
          state = 'after';
        }
        break;
      case 'firstKey':
      case 'key': {
        if (state === 'firstKey' && c === '}') {
          stack.pop();
          i++;
          state = 'after';
          break;
        }
        if (c !== '"') throw syntax(i, 'a key');
        const end = stringEnd(text, i);
        const raw = text.slice(i + 1, end - 1);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end)) as string) : raw;
        const keys = top!.keys!;
        if (keys.has(key)) return { key, path: stack.slice(0, -1).map((f) => f.at) };
        keys.add(key);
        top!.at = key;
        i = end;
        state = 'colon';
        break;
      }
      case 'colon':
        if (c !== ':') throw syntax(i, "':'");
        i++;
        state = 'value';
        break;
      case 'after':
        if (top === undefined) {
          if (i !== text.length) throw syntax(i, 'the end');
          return undefined;
        }
        if (c === ',') {
          i++;
          if (top.keys) state = 'key';
          else {
            top.at = (top.at as number) + 1;
            state = 'value';
          }
        } else if (c === (top.keys ? '}' : ']')) {
          stack.pop();
          i++;
        } else throw syntax(i, top.keys ? "',' or '}'" : "',' or ']'");
        break;
    }
  }
}

/**
 * A path as a reader would write it: `events[0].record`, `["a b"]`; the top-level value is `(top level)`.
 *
 * @param path - segments from {@link findDuplicateKey}
 */
export function formatJsonPath(path: readonly JsonPathSegment[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((s, i) => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z_$][\w$]*$/.test(s) ? `${i === 0 ? '' : '.'}${s}` : `[${JSON.stringify(s)}]`))
    .join('');
}
