import { describe, expect, test } from 'vitest';
import { checkNext, checkOrder, type DeviceEvent } from './chain.js';

const ev = (seq: number, prev?: string, index = seq): DeviceEvent => ({
  device: { id: 'd', seq, ...(prev !== undefined && { prev }) },
  index,
  received: `2026-01-01T00:00:${String(seq).padStart(2, '0')}.000Z`,
  hash: `h${seq}`,
  user: { id: 'ada', verified: false },
});

describe('checkNext', () => {
  test('in order and chained: no gap', () => {
    const a = checkNext(undefined, ev(1));
    const b = checkNext(a.state, ev(2, 'h1'));
    expect([a.gap, b.gap]).toEqual([undefined, undefined]);
    expect(b.state).toMatchObject({ lastSeq: 2, lastHash: 'h2', events: 2, firstSeen: a.state.firstSeen });
  });

  test('a jump is one gap with the missing range; a wrong prev is a chain gap; no prev is sequence-only', () => {
    const a = checkNext(undefined, ev(1)).state;
    expect(checkNext(a, ev(4, 'h3')).gap).toEqual({ kind: 'seq', device: 'd', from: 2, to: 3, seq: 4, index: 4 });
    expect(checkNext(a, ev(2, 'bad')).gap).toEqual({ kind: 'chain', device: 'd', seq: 2, index: 2, expected: 'h1', prev: 'bad' });
    expect(checkNext(a, ev(2)).gap).toBeUndefined();
  });

  test('an old number is late, never a gap, and moves nothing', () => {
    const a = checkNext(checkNext(undefined, ev(1)).state, ev(2, 'h1')).state;
    const step = checkNext(a, ev(1, undefined, 9));
    expect(step).toEqual({ state: { ...a, late: 1 }, late: true });
  });

  test('order: device, sequence, index', () => {
    const list = [ev(3), ev(1), { ...ev(2), device: { id: 'c', seq: 2 } }, ev(1, undefined, 0)];
    expect(list.sort(checkOrder).map((e) => `${e.device.id}${e.device.seq}@${e.index}`)).toEqual(['c2@2', 'd1@0', 'd1@1', 'd3@3']);
  });
});
