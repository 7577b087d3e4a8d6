import { describe, expect, it } from 'vitest';
import { sizeLabel } from './timeline.js';

describe('sizeLabel', () => {
  it('names sizes briefly', () => {
    expect([1000, 900_000, 7_200_000, 604_800_000].map(sizeLabel)).toEqual(['1s', '15m', '2h', '7d']);
  });
});
