/**
 * Each device's own sequence (docs/IDENTITY.md, "Devices"): pure checking of
 * the next event of a device against what the collector saw of it before.
 */

import type { Actor, Device } from '@stele/log';

/** Who did something to a device: an admin action's actor (a person's verified identity, or `token:<name>`). */
export type DevicePerson = Omit<Actor, 'groups'>;

/** A device an admin retired (docs/API.md, "Devices"): it is no longer expected to report. */
export interface Retirement {
  /** `received` of the `device.retire` event, its actor, its reason, its log index. */
  at: string;
  by: DevicePerson;
  reason: string;
  index: number;
  /** Events the device sent after it was retired: each one is unexpected. */
  reports: number;
  /** The first of them (a `stele.retired-report` event names it). */
  firstReport?: { index: number; seq: number; received: string };
}

/** An admin's note on a device (owner, asset tag, what it is). */
export interface DeviceNote {
  text: string;
  at: string;
  by: DevicePerson;
  index: number;
}

/** What the collector knows of one device. */
export interface DeviceState {
  id: string;
  /** Who sent its latest event: the record's actor (bound for a person) and submitter. */
  user: { id?: string; email?: string; idp?: string; verified: boolean };
  submitter?: { type: string; id: string; name?: string };
  /** `received` of its first and latest events. */
  firstSeen: string;
  lastSeen: string;
  /** The highest sequence number seen, and the chain hash of that event. */
  lastSeq: number;
  lastHash: string;
  /** Log index of that event. */
  lastIndex: number;
  /** Events accepted in sequence (late ones not counted). */
  events: number;
  /** `stele.gap` events recorded for it. */
  gaps: number;
  /** Events that arrived with a sequence number at or below one already seen (retries with a new id, late delivery). */
  late: number;
  /** Set while the device is retired (`device.retire`, until a `device.reinstate`). */
  retired?: Retirement;
  /** The latest `device.note`, unless it cleared the note. */
  note?: DeviceNote;
}

/** A hole in a device's stream. */
export type Gap =
  | { kind: 'seq'; device: string; from: number; to: number; seq: number; index: number }
  | { kind: 'chain'; device: string; seq: number; index: number; expected: string; prev: string };

/** One device event as the checker needs it. */
export interface DeviceEvent {
  device: Device;
  index: number;
  received: string;
  /** The chain hash of this event (SHA-256 of its sent form, hex). */
  hash: string;
  user: DeviceState['user'];
  submitter?: DeviceState['submitter'];
}

/** The result of checking one event: the next state, and a gap when one was found. */
export interface Step {
  state: DeviceState;
  gap?: Gap;
  /** True when the event was older than the device's latest: nothing moved. */
  late: boolean;
}

/**
 * Checks the next event of a device (computing only; the caller records).
 *
 * - First event: the device is enrolled; a first `seq` above 1 is a gap 1..seq-1.
 * - `seq` = last + 1: in order; a `prev` other than the last event's hash is a broken chain.
 *   An event without `prev` gets the sequence check only.
 * - `seq` > last + 1: the numbers between are a gap (`prev` cannot be checked).
 * - `seq` <= last: late (a retry that was given a new id, or delivery out of
 *   order across requests): counted, never a gap, and the chain does not move.
 */
export function checkNext(state: DeviceState | undefined, event: DeviceEvent): Step {
  const { device } = event;
  const advance = (base: DeviceState | undefined) => advanceTo(base, event, 1);
  if (!state) {
    const next = advance(undefined);
    if (device.seq > 1) return { state: next, late: false, gap: { kind: 'seq', device: device.id, from: 1, to: device.seq - 1, seq: device.seq, index: event.index } };
    return { state: next, late: false };
  }
  if (device.seq <= state.lastSeq) return { state: { ...state, late: state.late + 1 }, late: true };
  const next = advance(state);
  if (device.seq > state.lastSeq + 1) {
    return { state: next, late: false, gap: { kind: 'seq', device: device.id, from: state.lastSeq + 1, to: device.seq - 1, seq: device.seq, index: event.index } };
  }
  if (device.prev !== undefined && device.prev !== state.lastHash) {
    return { state: next, late: false, gap: { kind: 'chain', device: device.id, seq: device.seq, index: event.index, expected: state.lastHash, prev: device.prev } };
  }
  return { state: next, late: false };
}

/**
 * The state after `count` events that each came next in the device's sequence
 * (no gap, none late), `last` the last of them: what {@link checkNext} makes
 * of them one by one, for only the last one's user, time and hash stay. With
 * no `base` (a device's first event), `count` is 1.
 */
export function advanceTo(base: DeviceState | undefined, last: DeviceEvent, count: number): DeviceState {
  return {
    id: last.device.id,
    user: last.user,
    ...(last.submitter ? { submitter: last.submitter } : {}),
    firstSeen: base?.firstSeen ?? last.received,
    lastSeen: last.received,
    lastSeq: last.device.seq,
    lastHash: last.hash,
    lastIndex: last.index,
    events: (base?.events ?? 0) + count,
    gaps: base?.gaps ?? 0,
    late: base?.late ?? 0,
    // What admins said of the device stays whatever it sends.
    ...(base?.retired && { retired: base.retired }),
    ...(base?.note && { note: base.note }),
  };
}

/**
 * The order a batch of device events is checked in: by device, then by
 * sequence number, then by log index, so events a client sent out of order
 * within one commit are not taken for gaps.
 */
export function checkOrder(a: DeviceEvent, b: DeviceEvent): number {
  if (a.device.id !== b.device.id) return a.device.id < b.device.id ? -1 : 1;
  return a.device.seq - b.device.seq || a.index - b.index;
}
