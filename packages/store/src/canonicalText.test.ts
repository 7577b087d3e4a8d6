import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { canonicalize } from '@stele/log';
import { isPlainlyCanonical } from './canonicalText.js';

/** What the exact comparison in verification decides. */
function exactlyCanonical(text: string): boolean {
  try {
    return canonicalize(JSON.parse(text)) === text;
  } catch {
    return false;
  }
}

function hasEscapedKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasEscapedKey);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([k, v]) => JSON.stringify(k) !== `"${k}"` || hasEscapedKey(v));
}

/** JSON texts near canonical ones: re-serialized, re-spaced, with keys reordered, numbers and escapes rewritten. */
const variants = fc
  .tuple(fc.jsonValue({ maxDepth: 4 }), fc.nat(9), fc.nat(1_000_000))
  .map(([value, how, seed]) => {
    const text = canonicalize(value);
    switch (how) {
      case 0:
        return JSON.stringify(value);
      case 1:
        return JSON.stringify(value, null, seed % 3);
      case 2:
        return text.replace(/(\d)(?=[,\]}]|$)/, '$1.0');
      case 3:
        return text.replace(/(\d+)(?=[,\]}]|$)/, '$1e0');
      case 4:
        return text.replace(/"([a-z])/, (_, c: string) => `"\\u00${c.charCodeAt(0).toString(16)}`);
      case 5:
        return text.replace(/\\u00([0-9a-f]{2})/, (_, h: string) => `\\u00${h.toUpperCase()}`);
      case 6:
        return text.replace(/:(\d)/, ':-$1').replace(':-0', ':-0');
      case 7:
        return text.replace(/\\([bfnrt])/, (_, e: string) => `\\u00${({ b: '08', f: '0c', n: '0a', r: '0d', t: '09' } as Record<string, string>)[e]}`);
      default:
        return text;
    }
  });

describe('isPlainlyCanonical', () => {
  test('answers true only for canonical text', () => {
    fc.assert(
      fc.property(variants, (text) => {
        if (isPlainlyCanonical(text)) expect(text).toBe(canonicalize(JSON.parse(text)));
      }),
      { numRuns: 2000 },
    );
  });

  test('answers true only for canonical text, also after random edits', () => {
    const edits = fc.array(fc.tuple(fc.nat(), fc.constantFrom('', ' ', '0', '1', '-', '.', 'e', '"', '\\', 'u', ',', ':', '{', '}', '[', ']', 'a', 'A', 'é')), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), edits, (value, changes) => {
        let text = canonicalize(value);
        for (const [at, by] of changes) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + by + text.slice(i + (at % 2));
        }
        try {
          JSON.parse(text);
        } catch {
          return; // the caller only asks about text that parsed
        }
        if (isPlainlyCanonical(text)) expect(text).toBe(canonicalize(JSON.parse(text)));
      }),
      { numRuns: 5000 },
    );
  });

  test('recognizes the canonical text of ordinary values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        const text = canonicalize(value);
        // Escaped keys are left to canonicalize; everything else is recognized.
        if (!hasEscapedKey(value)) expect(isPlainlyCanonical(text)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  test.each([
    ['{"a":1,"b":[true,false,null,"x"]}', true],
    ['{"10":1,"9":2}', true], // code-unit order, not numeric
    ['{"9":2,"10":1}', false],
    ['{"a":1,"a":1}', false],
    ['{"b":1,"a":1}', false],
    ['{"a": 1}', false],
    [' {"a":1}', false],
    ['{"a":1} ', false],
    ['{"a":-0}', false],
    ['{"a":0}', true],
    ['{"a":1.0}', false],
    ['{"a":1e21}', false],
    ['{"a":1e+21}', true],
    ['{"a":0.1}', true],
    ['{"a":123456789012345678}', false],
    ['{"a":123456789012345680}', true],
    ['{"a":"\\u001f\\n\\"\\\\"}', true],
    ['{"a":"\\u0008"}', false],
    ['{"a":"\\u0009"}', false],
    ['{"a":"\\u000a"}', false],
    ['{"a":"\\u000c"}', false],
    ['{"a":"\\u000d"}', false],
    ['{"a":"\\u0007\\u000b\\u000e\\u0000"}', true],
    ['{"a":"\\u001F"}', false],
    ['{"a":"\\/"}', false],
    ['{"a":"\\u0041"}', false],
    ['{"a":"\\ud83d\\ude00"}', false],
    ['{"a":"\\ud800"}', false],
    ['{"a":"😀\u2028\u007f"}', true],
    ['{"\\u0001":1}', false], // canonical, but an escaped key is left to canonicalize
    ['{"":1,"a":{}}', true],
    ['[]', true],
    ['{"a":[1,[2,[]]]}', true],
  ])('%s: %s', (text, expected) => {
    expect(isPlainlyCanonical(text)).toBe(expected);
    if (expected) expect(exactlyCanonical(text)).toBe(true);
  });

  test('leaves deep nesting to canonicalize', () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(isPlainlyCanonical(deep(64))).toBe(true);
    expect(isPlainlyCanonical(deep(65))).toBe(false);
  });
});
