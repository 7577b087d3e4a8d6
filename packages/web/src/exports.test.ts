import { describe, expect, it } from 'vitest';
import { toJsonLines } from './exports.js';

describe('exports', () => {
  it('writes JSON Lines, one value a line', () => {
    expect(toJsonLines([{ a: 1 }, { b: 'x\ny' }])).toBe('{"a":1}\n{"b":"x\\ny"}\n');
    expect(toJsonLines([])).toBe('');
  });
});
