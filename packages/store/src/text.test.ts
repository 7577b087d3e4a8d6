import { describe, expect, test } from 'vitest';
import { filterProblem } from './filter.js';
import { queryTerms, wordsWithoutTokens } from './text.js';

describe('words without tokens', () => {
  test('are the words with no letter or digit, which queryTerms drops', () => {
    const text = 'init.el  € -- Ärger 😀 x1';
    expect(wordsWithoutTokens(text)).toEqual(['€', '--', '😀']);
    expect(queryTerms(text)).toEqual([['init', 'el'], ['ärger'], ['x1']]);
    expect(wordsWithoutTokens('  ')).toEqual([]);
  });

  test('make a filter a problem: search finds words', () => {
    expect(filterProblem({ text: '€' })).toBe('the search word "€" has no letters or digits; search finds words');
    expect(filterProblem({ text: 'init.el Ärger' })).toBeUndefined();
    expect(filterProblem({})).toBeUndefined();
  });
});
