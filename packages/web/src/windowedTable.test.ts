import { describe, expect, it } from 'vitest';
import { visibleRange } from './windowedTable.js';

describe('visibleRange', () => {
  it('covers the rows in view plus the overscan, clamped to the list', () => {
    // Rows of 20 px, a viewport of 400 px scrolled 1000 px into the list: rows 50 to 70.
    expect(visibleRange(1000, 400, 20, 10_000, 10)).toEqual([40, 80]);
    expect(visibleRange(0, 400, 20, 10_000, 10)).toEqual([0, 30]);
    expect(visibleRange(-300, 400, 20, 10_000, 0)).toEqual([0, 5]);
    expect(visibleRange(199_990, 400, 20, 10_000, 10)).toEqual([9989, 10_000]);
  });

  it('gives nothing past the end or for an empty list', () => {
    expect(visibleRange(1_000_000, 400, 20, 100, 10)).toEqual([100, 100]);
    expect(visibleRange(0, 400, 20, 0)).toEqual([0, 0]);
  });
});
