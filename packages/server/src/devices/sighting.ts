import { createHash, hash } from 'node:crypto';
import { canonicalBytes, fromUtf8, STORE_FIELDS, type Device, type EventRecord } from '@stele/log';
import { parseRecord, type LogEntry, type StoredEntry } from '@stele/store';
import { BOUND_DETAILS, sentForm } from '../auth/bind.js';
import { userOf } from './action.js';
import type { DeviceEvent, DeviceState } from './chain.js';
import { memberOf, membersOf, type Member } from './members.js';

/** The hash a device's next event names as `prev`: SHA-256 of the canonical JSON of the event as sent (bind.ts). */
export function chainHash(record: EventRecord): string {
  return createHash('sha256').update(canonicalBytes(sentForm(record as unknown as Record<string, unknown>))).digest('hex');
}

/** The record's members that {@link sentForm} leaves out: the store's. */
const LEFT_OUT = new Set(STORE_FIELDS);
const BOUND = new Set<string>(BOUND_DETAILS);

/** A stored entry's record: the one a commit already holds, else parsed from its bytes. */
export const recordOf = (e: StoredEntry): EventRecord => (e as Partial<LogEntry>).record ?? parseRecord(e.bytes);

const valueOf = (bytes: Uint8Array, m: Member): unknown => JSON.parse(fromUtf8(bytes.subarray(m.value, m.end)));

/**
 * A device event read from the record's stored bytes. Only `device` is read
 * at once: a late event (a retry, a resend) moves nothing, so its user, time
 * and chain hash are read only when the checker asks, and the whole record is
 * parsed only for a gap's event.
 */
export class Sighting implements DeviceEvent {
  readonly index: number;
  private list: Member[] | undefined;
  private parsed: EventRecord | undefined;
  private chain: string | undefined;

  private constructor(
    private readonly entry: StoredEntry,
    readonly device: Device,
  ) {
    this.index = entry.index;
  }

  /** The entry's device event, or undefined when the record names no device. */
  static of(entry: StoredEntry): Sighting | undefined {
    const device = memberOf(entry.bytes, 'device');
    return device && new Sighting(entry, valueOf(entry.bytes, device) as Device);
  }

  /** The whole record (for a gap's event). */
  get record(): EventRecord {
    return (this.parsed ??= recordOf(this.entry));
  }

  get received(): string {
    return this.member('received') as string;
  }

  get user(): DeviceState['user'] {
    return userOf(this.member('actor') as EventRecord['actor']);
  }

  get submitter(): DeviceState['submitter'] {
    return this.member('submitter') as DeviceState['submitter'];
  }

  get hash(): string {
    return (this.chain ??= this.sentHash());
  }

  private get members(): Member[] {
    return (this.list ??= membersOf(this.entry.bytes));
  }

  private member(key: string): unknown {
    const m = this.members.find((x) => x.key === key);
    return m && valueOf(this.entry.bytes, m);
  }

  /**
   * {@link chainHash} without parsing and re-canonicalizing: the sent form of
   * a record is the record without the store's members, so its canonical
   * bytes are the stored bytes with those members left out. When the
   * collector changed the event (a bound actor, an empty `details`),
   * {@link sentForm} rebuilds it from the parsed record instead.
   */
  private sentHash(): string {
    const { bytes } = this.entry;
    const details = this.members.find((m) => m.key === 'details');
    if (details) {
      const keys = membersOf(bytes, details.value);
      if (keys.length === 0 || keys.some((k) => BOUND.has(k.key))) return chainHash(this.record);
    }
    // Members kept next to each other stay one run of bytes, commas included.
    const runs: Array<[number, number]> = [];
    let joined = false;
    for (const m of this.members) {
      if (LEFT_OUT.has(m.key)) joined = false;
      else if (joined) runs[runs.length - 1]![1] = m.end;
      else {
        runs.push([m.start, m.end]);
        joined = true;
      }
    }
    let length = 2 + Math.max(0, runs.length - 1);
    for (const [from, to] of runs) length += to - from;
    const sent = new Uint8Array(length);
    let at = 0;
    sent[at++] = 0x7b;
    runs.forEach(([from, to], i) => {
      if (i > 0) sent[at++] = 0x2c;
      sent.set(bytes.subarray(from, to), at);
      at += to - from;
    });
    sent[at] = 0x7d;
    return hash('sha256', sent, 'hex');
  }
}
