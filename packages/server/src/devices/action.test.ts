import { expect, test } from 'vitest';
import type { EventRecord } from '@stele/log';
import { actionOf, applyAction, reportRetired, type DeviceAction } from './action.js';
import type { DeviceEvent, DeviceState, Retirement } from './chain.js';

const state: DeviceState = {
  id: 'laptop', user: { id: 'ada', verified: false }, firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-02T00:00:00.000Z',
  lastSeq: 7, lastHash: 'a'.repeat(64), lastIndex: 40, events: 7, gaps: 0, late: 0,
};
const by = { id: 'token:root', verified: true };
const act = (kind: DeviceAction['kind'], index: number, extra: Partial<DeviceAction> = {}): DeviceAction => ({ kind, device: 'laptop', index, at: `2026-01-03T00:00:0${index % 10}.000Z`, by, ...extra });

const record = (fields: Partial<EventRecord>): EventRecord =>
  ({ v: 1, id: 'x', index: 50, time: '2026-01-03T00:00:00.000Z', received: '2026-01-03T00:00:00.000Z', source: 'stele', action: 'device.retire', actor: by, outcome: 'success', target: { type: 'device', id: 'laptop' }, reason: 'lost', details: { authorizedAs: 'admin' }, ...fields }) as EventRecord;

test('only a stele device.* event aimed at a device and marked by an admin route is an action', () => {
  expect(actionOf(record({}))).toEqual({ kind: 'retire', device: 'laptop', index: 50, at: '2026-01-03T00:00:00.000Z', by, reason: 'lost' });
  expect(actionOf(record({ action: 'device.note', details: { authorizedAs: 'admin', note: 'kiosk' } }))).toMatchObject({ kind: 'note', note: 'kiosk' });
  expect(actionOf(record({ source: 'jamf' }))).toBeUndefined();
  expect(actionOf(record({ details: {} }))).toBeUndefined();
  expect(actionOf(record({ details: { authorizedAs: 'ingest' } }))).toBeUndefined();
  expect(actionOf(record({ action: 'device.wipe' }))).toBeUndefined();
  expect(actionOf(record({ target: { type: 'file', id: 'laptop' } }))).toBeUndefined();
});

test('retire and reinstate apply once; the first of two retirements counts; unknown devices stay unknown', () => {
  const retired = applyAction(state, act('retire', 50, { reason: 'lost' }))!;
  expect(retired.retired).toEqual({ at: '2026-01-03T00:00:00.000Z', by, reason: 'lost', index: 50, reports: 0 });
  expect(applyAction(retired, act('retire', 51, { reason: 'again' }))).toBe(retired);
  expect(applyAction(retired, act('reinstate', 52, { reason: 'found' }))).toEqual(state);
  expect(applyAction(state, act('reinstate', 52))).toBe(state);
  expect(applyAction(undefined, act('retire', 50))).toBeUndefined();
});

test('a note replaces the last one, and an empty note clears it', () => {
  const noted = applyAction(state, act('note', 60, { note: 'kiosk' }))!;
  expect(noted.note).toEqual({ text: 'kiosk', at: '2026-01-03T00:00:00.000Z', by, index: 60 });
  expect(applyAction(noted, act('note', 61, { note: 'front desk' }))!.note?.text).toBe('front desk');
  expect(applyAction(noted, act('note', 62, { note: '' }))).toEqual(state);
});

test('a retired device: the first report is to be recorded, the next ones counted', () => {
  const retired = applyAction(state, act('retire', 50, { reason: 'lost' })) as DeviceState & { retired: Retirement };
  const event = (seq: number, index: number) => ({ device: { id: 'laptop', seq }, index, received: `2026-01-04T00:00:0${seq % 10}.000Z` }) as DeviceEvent;
  const first = reportRetired(retired, event(8, 70));
  expect(first.report).toBe(true);
  expect(first.state.retired).toMatchObject({ reports: 1, firstReport: { index: 70, seq: 8, received: '2026-01-04T00:00:08.000Z' } });
  const second = reportRetired(first.state as typeof retired, event(9, 71));
  expect(second.report).toBe(false);
  expect(second.state.retired).toMatchObject({ reports: 2, firstReport: { index: 70, seq: 8 } });
});
