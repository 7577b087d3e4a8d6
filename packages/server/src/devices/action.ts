import type { EventRecord } from '@stele/log';
import { deviceFinding } from '../audit.js';
import type { DeviceEvent, DevicePerson, DeviceState, Retirement } from './chain.js';

/**
 * What admins do to devices (docs/API.md, "Devices"): retire one, reinstate
 * it, note what it is. Each is a `stele` event in the log (`device.retire`,
 * `device.reinstate`, `device.note`), appended by the admin routes, and the
 * device table takes it from the log like everything else, so a table rebuilt
 * from the log has the same retirements. Pure computing here; the tracker
 * records.
 */

/** The kinds of admin action, each the event action `device.<kind>`. */
export const DEVICE_ACTIONS = ['retire', 'reinstate', 'note'] as const;
export type DeviceActionKind = (typeof DEVICE_ACTIONS)[number];

/**
 * The `details` key and value with which the admin routes mark their events.
 * The collector refuses `details.authorizedAs` from clients (auth/bind.ts), so
 * a client allowed only to ingest cannot retire a device by sending a
 * look-alike event.
 */
export const AUTHORIZED_AS = { key: 'authorizedAs', value: 'admin' } as const;

/** One admin action, read from its event. */
export interface DeviceAction {
  kind: DeviceActionKind;
  device: string;
  /** The event's log index, `received` and actor. */
  index: number;
  at: string;
  by: DevicePerson;
  reason?: string;
  /** `device.note`: the new note; empty clears it. */
  note?: string;
}

const isKind = (s: string): s is DeviceActionKind => (DEVICE_ACTIONS as readonly string[]).includes(s);

/** The actor as a {@link DevicePerson}: who did it. */
export function personOf(actor: EventRecord['actor']): DevicePerson {
  const p: DevicePerson = { verified: actor.verified };
  if (actor.id !== undefined) p.id = actor.id;
  if (actor.email !== undefined) p.email = actor.email;
  if (actor.name !== undefined) p.name = actor.name;
  if (actor.idp !== undefined) p.idp = actor.idp;
  return p;
}

/** The actor as a device's {@link DeviceState.user}: who sent its event (no display name). */
export function userOf(actor: EventRecord['actor']): DeviceState['user'] {
  const user = {} as DeviceState['user'];
  if (actor.id !== undefined) user.id = actor.id;
  if (actor.email !== undefined) user.email = actor.email;
  if (actor.idp !== undefined) user.idp = actor.idp;
  user.verified = actor.verified;
  return user;
}

/**
 * The admin action a record is, or undefined: only a `stele` event
 * `device.<kind>` aimed at a device and marked {@link AUTHORIZED_AS} counts
 * (the record is from the log, so the marker was set by an admin route).
 */
export function actionOf(record: EventRecord): DeviceAction | undefined {
  if (record.source !== 'stele' || !record.action.startsWith('device.')) return undefined;
  const kind = record.action.slice('device.'.length);
  const { target, details } = record;
  if (!isKind(kind) || target?.type !== 'device' || typeof target.id !== 'string' || details?.[AUTHORIZED_AS.key] !== AUTHORIZED_AS.value) return undefined;
  const action: DeviceAction = { kind, device: target.id, index: record.index, at: record.received, by: personOf(record.actor) };
  if (record.reason !== undefined) action.reason = record.reason;
  if (kind === 'note') action.note = typeof details.note === 'string' ? details.note : '';
  return action;
}

/**
 * The device's state after an admin action. Retiring a retired device, or
 * reinstating one that is not retired, changes nothing (two admins, or two
 * collectors, raced: the first counts); an action on a device the table does
 * not know changes nothing either (the routes refuse those).
 */
export function applyAction(state: DeviceState | undefined, action: DeviceAction): DeviceState | undefined {
  if (!state) return undefined;
  const { at, by, index } = action;
  switch (action.kind) {
    case 'retire':
      return state.retired ? state : { ...state, retired: { at, by, reason: action.reason ?? '', index, reports: 0 } };
    case 'reinstate': {
      if (!state.retired) return state;
      const { retired: _retired, ...rest } = state;
      return rest;
    }
    case 'note': {
      const { note: _note, ...rest } = state;
      return action.note ? { ...rest, note: { text: action.note, at, by, index } } : rest;
    }
  }
}

/**
 * A retired device's event, counted: the first one after a retirement is to
 * be recorded (`report: true`), later ones only counted.
 */
export function reportRetired(state: DeviceState & { retired: Retirement }, event: DeviceEvent): { state: DeviceState; report: boolean } {
  const { retired } = state;
  const first = retired.reports === 0;
  const next: Retirement = { ...retired, reports: retired.reports + 1 };
  if (first) next.firstReport = { index: event.index, seq: event.device.seq, received: event.received };
  return { state: { ...state, retired: next }, report: first };
}

/**
 * The event that says a retired device reported: one per retirement, with a
 * deterministic id and time, so a rebuild or a second collector records it once.
 */
export function retiredReportEvent(retired: Retirement, offending: EventRecord): Record<string, unknown> {
  const device = offending.device!;
  return deviceFinding({
    action: 'stele.retired-report',
    idPrefix: 'stele-retired',
    key: `${device.id}\n${retired.index}`,
    device: device.id,
    time: offending.received,
    details: {
      device: device.id,
      seq: device.seq,
      index: offending.index,
      retired: { index: retired.index, at: retired.at, by: retired.by, reason: retired.reason },
      user: personOf(offending.actor),
    },
  });
}
