import { createHash, hash } from 'node:crypto';
import { canonicalBytes, STORE_FIELDS, type Device, type EventRecord } from '@stele/log';
import { parseRecord, type LogEntry, type StoredEntry } from '@stele/store';
import { BOUND_DETAILS, sentForm } from '../auth/bind.js';
import type { DeviceEvent, DeviceState } from './chain.js';
import { membersOf, type Member } from './members.js';

/** The hash a device's next event names as `prev`: SHA-256 of the canonical JSON of the event as sent (bind.ts). */
export function chainHash(record: EventRecord): string {
  return createHash('sha256').update(canonicalBytes(sentForm(record as unknown as Record<string, unknown>))).digest('hex');
}

// Stored bytes are canonical JSON (no spaces, keys sorted), so a record with a `device`
// holds `"device":{`: a record without it is no device event and needs no reading.
const DEVICE_KEY = Buffer.from('"device":{');
/** The record's members that {@link sentForm} leaves out: the store's. */
const LEFT_OUT = new Set(STORE_FIELDS);
const BOUND = new Set<string>(BOUND_DETAILS);

const bufferOf = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const valueOf = (bytes: Buffer, m: Member): unknown => JSON.parse(bytes.toString('utf8', m.value, m.end));

/**
 * A device event read from the record's stored bytes. Only `device` is read
 * at once: a late event (a retry, a resend) moves nothing, so its user, time
 * and chain hash are read only when the checker asks, and the whole record is
 * parsed only for a gap's event.
 */
export class Sighting implements DeviceEvent {
  readonly index: number;
  private parsed: EventRecord | undefined;
  private chain: string | undefined;

  private constructor(
    private readonly entry: StoredEntry,
    private readonly bytes: Buffer,
    private readonly members: Member[],
    readonly device: Device,
  ) {
    this.index = entry.index;
  }

  /** The entry's device event, or undefined when the record names no device. */
  static of(entry: StoredEntry): Sighting | undefined {
    const bytes = bufferOf(entry.bytes);
    if (!bytes.includes(DEVICE_KEY)) return undefined;
    const members = membersOf(bytes);
    const device = members.find((m) => m.key === 'device');
    if (!device) return undefined; // the key was in details
    return new Sighting(entry, bytes, members, valueOf(bytes, device) as Device);
  }

  /** The whole record (for a gap's event). */
  get record(): EventRecord {
    return (this.parsed ??= (this.entry as Partial<LogEntry>).record ?? parseRecord(this.entry.bytes));
  }

  get received(): string {
    return this.member('received') as string;
  }

  get user(): DeviceState['user'] {
    const a = this.member('actor') as EventRecord['actor'];
    const user = {} as DeviceState['user'];
    if (a.id !== undefined) user.id = a.id;
    if (a.email !== undefined) user.email = a.email;
    if (a.idp !== undefined) user.idp = a.idp;
    user.verified = a.verified;
    return user;
  }

  get submitter(): DeviceState['submitter'] {
    return this.member('submitter') as DeviceState['submitter'];
  }

  get hash(): string {
    return (this.chain ??= this.sentHash());
  }

  private member(key: string): unknown {
    const m = this.members.find((x) => x.key === key);
    return m && valueOf(this.bytes, m);
  }

  /**
   * {@link chainHash} without parsing and re-canonicalizing: the sent form of
   * a record is the record without the store's members, so its canonical
   * bytes are the stored bytes with those members left out. When the
   * collector changed the event (a bound actor, an empty `details`),
   * {@link sentForm} rebuilds it from the parsed record instead.
   */
  private sentHash(): string {
    const details = this.members.find((m) => m.key === 'details');
    if (details) {
      const keys = membersOf(this.bytes, details.value);
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
    const sent = Buffer.allocUnsafe(length);
    let at = 0;
    sent[at++] = 0x7b;
    runs.forEach(([from, to], i) => {
      if (i > 0) sent[at++] = 0x2c;
      at += this.bytes.copy(sent, at, from, to);
    });
    sent[at] = 0x7d;
    return hash('sha256', sent, 'hex');
  }
}
