import { describe, expect, test } from 'vitest';
import { displayWidth, fitColumns, oneLine, plural } from './text.js';

describe('plural', () => {
  test('one is singular; zero and more are plural, regular or given', () => {
    expect([0, 1, 2].map((n) => plural(n, 'event'))).toEqual(['0 events', '1 event', '2 events']);
    expect([1, 3].map((n) => plural(n, 'entry', 'entries'))).toEqual(['1 entry', '3 entries']);
  });
});

describe('oneLine', () => {
  test('writes control characters as JSON escapes and leaves the rest', () => {
    expect(oneLine('"garbage\n" is not valid JSON')).toBe('"garbage\\n" is not valid JSON');
    expect(oneLine('a\r\tb\u001b[31m\u007f\u0085é')).toBe('a\\r\\tb\\u001b[31m\\u007f\\u0085é');
  });
});

describe('columns', () => {
  test('CJK and emoji take two columns, combining marks none', () => {
    expect(displayWidth('alice')).toBe(5);
    expect(displayWidth('田中@example.jp')).toBe(15);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('🔑 key')).toBe(6);
  });

  test('fits text to a width: padded, or cut with an ellipsis without splitting a wide character', () => {
    expect(fitColumns('田中', 6)).toBe('田中  ');
    expect(fitColumns('abcdef', 4)).toBe('abc…');
    expect(fitColumns('田中太郎', 6)).toBe('田中… ');
    for (const text of ['田中太郎', 'abcdef', '🔑🔑🔑', 'naïve café']) for (const w of [3, 4, 5, 6]) expect(displayWidth(fitColumns(text, w))).toBe(w);
  });
});
