import { describe, expect, it } from 'vitest';
import { findDuplicateKey, formatJsonPath } from './jsonDuplicates.js';

describe('findDuplicateKey', () => {
  it('finds none in JSON whose objects have distinct keys', () => {
    for (const text of ['{}', '[]', '""', '0', '-1.5e+3', 'true', 'null', ' {"a":1,"b":[1,{"a":2}],"c":{"a":{"a":3}}} ', '[{"a":1},{"a":1}]', '{"a":"\\"a\\":1"}']) {
      expect(findDuplicateKey(text), text).toBeUndefined();
    }
  });

  it('finds a key repeated at the top level, with the first value a reader sees and the last JSON.parse keeps', () => {
    expect(findDuplicateKey('{"reason": "FORGED: approved by CISO", "reason": "ÄRGER groß"}')).toEqual({ key: 'reason', path: [] });
  });

  it('compares keys decoded: an escape does not hide a duplicate', () => {
    expect(findDuplicateKey('{"reason":1,"\\u0072eason":2}')).toEqual({ key: 'reason', path: [] });
    expect(findDuplicateKey('{"\\u00c4":1,"Ä":2}')).toEqual({ key: 'Ä', path: [] });
    expect(findDuplicateKey('{"a\\/b":1,"a/b":2}')).toEqual({ key: 'a/b', path: [] });
    expect(findDuplicateKey('{"\\ud83d\\ude00":1,"\\uD83D\\uDE00":2}')).toEqual({ key: '😀', path: [] });
    // Different code points stay different keys, as they are for JSON.parse.
    expect(findDuplicateKey('{"Ä":1,"A\\u0308":2}')).toBeUndefined();
  });

  it('names where the repeating object is, through nested objects and arrays', () => {
    const text = JSON.stringify({ format: 'x', events: [{ record: { id: 'a' } }, { record: { id: 'b', reason: 'r' } }] }).replace('"reason":"r"', '"reason":"r","reason":"s"');
    expect(findDuplicateKey(text)).toEqual({ key: 'reason', path: ['events', 1, 'record'] });
    expect(findDuplicateKey('[[1],[2,{"x":{"k":1,"k":2}}]]')).toEqual({ key: 'k', path: [1, 1, 'x'] });
    expect(findDuplicateKey('{"a":{"b":1},"a":{"b":1}}')).toEqual({ key: 'a', path: [] });
  });

  it('does not take text inside strings for keys', () => {
    expect(findDuplicateKey('{"note":"{\\"a\\":1,\\"a\\":2}","a":"a","b":"\\\\","c":"}"}')).toBeUndefined();
    expect(findDuplicateKey('["a","a",{"a":"a"}]')).toBeUndefined();
    // A key that ends in an escaped backslash ends where its quote does.
    expect(findDuplicateKey('{"a\\\\":1,"a\\\\":2}')).toEqual({ key: 'a\\', path: [] });
  });

  it('keeps every object to itself: the same key in siblings or parent and child is no duplicate', () => {
    expect(findDuplicateKey('{"a":{"a":{"a":1}},"b":[{"a":1},{"a":1}]}')).toBeUndefined();
  });

  it('walks any depth without recursion', () => {
    const deep = '['.repeat(100_000) + '{"k":1,"k":2}' + ']'.repeat(100_000);
    expect(findDuplicateKey(deep)?.path).toHaveLength(100_000);
  });

  it('throws SyntaxError on text that is not JSON', () => {
    for (const text of ['', '{', '{"a"}', '{"a":1,}', '[1,]', '{"a":1 "b":2}', '"\u0001"', '"\\x"', '"\\u12"', '01', 'nul', '{} {}', "{'a':1}"]) {
      expect(() => findDuplicateKey(text), JSON.stringify(text)).toThrow(SyntaxError);
    }
  });
});

describe('formatJsonPath', () => {
  it('writes a path as a reader would', () => {
    expect(formatJsonPath([])).toBe('(top level)');
    expect(formatJsonPath(['events', 0, 'record'])).toBe('events[0].record');
    expect(formatJsonPath([2, 'a b', 'c'])).toBe('[2]["a b"].c');
  });
});
