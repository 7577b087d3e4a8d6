import { describe, expect, it } from 'vitest';
import { ageLabel, deviceState, sortDevices, SILENT_MS, type Device } from './coverageView.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const dev = (id: string, agoMs: number, gaps = 0): Device => ({
  id, user: { id: 'alice', verified: false }, firstSeen: '2026-01-01T00:00:00Z', lastSeen: new Date(NOW - agoMs).toISOString(),
  lastSeq: 3, lastIndex: 9, events: 3, gaps, late: 0,
});

describe('coverage', () => {
  it('flags gaps first, then silence', () => {
    expect(deviceState(dev('a', 1000), NOW)).toBe('ok');
    expect(deviceState(dev('a', SILENT_MS + 1), NOW)).toBe('silent');
    expect(deviceState(dev('a', 1000, 2), NOW)).toBe('gap');
    expect(sortDevices([dev('c', 1000), dev('b', SILENT_MS * 2), dev('a', 1000), dev('z', 5, 1)], NOW).map((d) => d.id)).toEqual(['z', 'b', 'a', 'c']);
  });

  it('a retired device is never silent, and is flagged first when it reports again', () => {
    const retired = (d: Device, reports: number): Device => ({ ...d, retired: { at: '2026-01-01T06:00:00Z', by: { email: 'alice@example.com', verified: true }, reason: 'wiped', index: 7, reports } });
    expect(deviceState(retired(dev('r', SILENT_MS * 4), 0), NOW)).toBe('retired');
    expect(deviceState(retired(dev('r', SILENT_MS * 4, 2), 0), NOW)).toBe('retired');
    expect(deviceState(retired(dev('r', 1000), 1), NOW)).toBe('reporting');
    const devices = [retired(dev('a', SILENT_MS * 2), 0), dev('b', SILENT_MS * 2), dev('c', 1000, 1), retired(dev('d', 1000), 3), dev('e', 1000)];
    expect(sortDevices(devices, NOW).map((d) => d.id)).toEqual(['d', 'c', 'b', 'e', 'a']);
  });

  it('writes ages briefly', () => {
    expect([5_000, 300_000, 3_600_000 + 600_000, 2 * 86_400_000 + 4 * 3_600_000].map(ageLabel)).toEqual(['5s', '5m', '1h 10m', '2d 4h']);
  });
});
