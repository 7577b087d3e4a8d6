import { createHash, hash } from 'node:crypto';
import { canonicalBytes, fromUtf8, STORE_FIELDS, type Device, type EventRecord } from '@stele/log';
import { parseRecord, type LogEntry, type StoredEntry } from '@stele/store';
import { BOUND_DETAILS, sentForm } from '../auth/bind.js';
import { userOf } from './action.js';
import type { DeviceEvent, DeviceState } from './chain.js';
import { eachMember, isKey, latin1, memberOf, membersOf, type Member } from './members.js';

/** The hash a device's next event names as `prev`: SHA-256 of the canonical JSON of the event as sent (bind.ts). */
export function chainHash(record: EventRecord): string {
  return createHash('sha256').update(canonicalBytes(sentForm(record as unknown as Record<string, unknown>))).digest('hex');
}

/** The record's members that {@link sentForm} leaves out: the store's. */
const LEFT_OUT = STORE_FIELDS;

/** A stored entry's record: the one a commit already holds, else parsed from its bytes. */
export const recordOf = (e: StoredEntry): EventRecord => (e as Partial<LogEntry>).record ?? parseRecord(e.bytes);

const valueOf = (bytes: Uint8Array, m: Member): unknown => JSON.parse(fromUtf8(bytes.subarray(m.value, m.end)));

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const ID_OPEN = Buffer.from('{"id":"');
const PREV_OPEN = Buffer.from('","prev":"');
const SEQ_OPEN = Buffer.from('","seq":');
/** True when `text` is at `bytes[from]`. */
const hasAt = (bytes: Uint8Array, from: number, text: Uint8Array) => {
  if (from + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[from + i] !== text[i]) return false;
  return true;
};
/** Past the ASCII text at `from` that ends with a quote; -1 at a backslash or a non-ASCII byte. */
const asciiEnd = (bytes: Uint8Array, from: number, end: number) => {
  for (let i = from; i < end; i++) {
    const c = bytes[i]!;
    if (c === QUOTE) return i;
    if (c === BACKSLASH || c >= 0x80) return -1;
  }
  return -1;
};

/**
 * The record's device, read on every device event: its bytes in the form the
 * store writes, `{"id":"…","prev":"…","seq":N}` (ASCII without escapes, as
 * the schema allows), are read directly; anything else is parsed as JSON.
 */
function deviceOf(bytes: Uint8Array, m: Member): Device {
  const slow = () => valueOf(bytes, m) as Device;
  if (!hasAt(bytes, m.value, ID_OPEN)) return slow();
  const idFrom = m.value + ID_OPEN.length;
  let i = asciiEnd(bytes, idFrom, m.end);
  if (i < 0) return slow();
  const id = latin1(bytes, idFrom, i);
  let prev: string | undefined;
  if (hasAt(bytes, i, PREV_OPEN)) {
    const prevFrom = i + PREV_OPEN.length;
    i = asciiEnd(bytes, prevFrom, m.end);
    if (i < 0) return slow();
    prev = fromUtf8(bytes.subarray(prevFrom, i)); // 64 characters: faster decoded than joined
  }
  if (!hasAt(bytes, i, SEQ_OPEN)) return slow();
  const seqFrom = i + SEQ_OPEN.length;
  let seq = 0;
  for (i = seqFrom; i < m.end - 1; i++) {
    const c = bytes[i]! - 0x30;
    if (c < 0 || c > 9) return slow();
    seq = seq * 10 + c;
  }
  // Up to 15 digits is a safe integer; a leading zero is not JSON.
  const digits = m.end - 1 - seqFrom;
  if (bytes[m.end - 1] !== CLOSE || digits < 1 || digits > 15 || (bytes[seqFrom] === 0x30 && digits > 1)) return slow();
  return prev === undefined ? { id, seq } : { id, prev, seq };
}

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
    return device && new Sighting(entry, deviceOf(entry.bytes, device));
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
    // Leaving members out never makes the bytes longer.
    if (sent.length < bytes.length) sent = new Uint8Array(Math.max(bytes.length, 2 * sent.length));
    let length = 1;
    sent[0] = OPEN;
    let changed = false;
    // Members kept next to each other are copied as one run of bytes, commas included.
    let runFrom = 0;
    let runTo = 0;
    const flush = () => {
      if (runTo === runFrom) return;
      if (length > 1) sent[length++] = COMMA;
      sent.set(bytes.subarray(runFrom, runTo), length);
      length += runTo - runFrom;
    };
    eachMember(bytes, 0, (start, keyEnd, value, end) => {
      if (isOneOf(bytes, start, keyEnd, LEFT_OUT)) return false;
      if (isKey(bytes, start, keyEnd, 'details') && !sentAsStored(bytes, value)) return (changed = true);
      if (runTo === start - 1 && runTo > runFrom) runTo = end;
      else {
        flush();
        runFrom = start;
        runTo = end;
      }
      return false;
    });
    if (changed) return chainHash(this.record);
    flush();
    sent[length++] = CLOSE;
    return hash('sha256', sent.subarray(0, length), 'hex');
  }
}

/** Where sent forms are put together, one at a time: the tracker is synchronous, and hashes many. */
let sent = new Uint8Array(4096);

/** True when the key at `start` is one of `keys`. */
function isOneOf(bytes: Uint8Array, start: number, keyEnd: number, keys: readonly string[]): boolean {
  for (let i = 0; i < keys.length; i++) if (isKey(bytes, start, keyEnd, keys[i]!)) return true;
  return false;
}

/** True when the `details` object at `bytes[from]` is as the device sent it: not empty, and none of the collector's keys. */
function sentAsStored(bytes: Uint8Array, from: number): boolean {
  let empty = true;
  let bound = false;
  eachMember(bytes, from, (start, keyEnd) => {
    empty = false;
    return (bound = isOneOf(bytes, start, keyEnd, BOUND_DETAILS));
  });
  return !empty && !bound;
}
