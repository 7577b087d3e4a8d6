import { describe, expect, test } from 'vitest';
import { oneLine, plural } from './text.js';

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
