/**
 * The stored record of a validated event: the event's fields with the ones
 * the store sets (id when the client gave none, received, index, submitter).
 */
import type { Actor, EventInput, EventRecord, Submitter, Target } from './event.js';
import { CONTROL_OR_SURROGATE, hasLoneSurrogate } from './unicode.js';

/** What the store adds to an event to make its record. */
export interface StoreFields {
  /** Used only when the event has no id of its own. */
  id: string;
  /** The store's clock; also the event's `time` when it has none. */
  received: string;
  index: number;
  submitter?: Submitter;
}

/**
 * Throws unless `store` can be added to an event with id `eventId`: the ids agree, the id and
 * `received` are strings of valid Unicode (no lone surrogate), the index is
 * a safe non-negative integer, and the submitter's fields are bounded (so that
 * the store's fields always fit the 1,024 bytes validation keeps free) and
 * hold no control characters.
 *
 * @throws RangeError naming what is wrong
 */
export function checkStoreFields(eventId: string | undefined, store: StoreFields): void {
  if (eventId !== undefined && eventId !== store.id) throw new RangeError('the store id differs from the event id');
  // Canonical JSON has no form for a lone surrogate: refused here, before any record is made or written.
  if (typeof store.id !== 'string' || typeof store.received !== 'string' || hasLoneSurrogate(store.id) || hasLoneSurrogate(store.received)) {
    throw new RangeError('the store id and received are strings of valid Unicode');
  }
  if (!Number.isSafeInteger(store.index) || store.index < 0) throw new RangeError('index is a safe non-negative integer');
  const sub = store.submitter;
  if (
    sub !== undefined &&
    (sub.type.length > 16 || sub.id.length > 128 || (sub.name?.length ?? 0) > 128 ||
      CONTROL_OR_SURROGATE.test(sub.id) || CONTROL_OR_SURROGATE.test(sub.type) || (sub.name !== undefined && CONTROL_OR_SURROGATE.test(sub.name)))
  ) {
    throw new RangeError('submitter fields are at most 16, 128 and 128 characters, without control characters');
  }
}

/**
 * The stored record of a validated event.
 *
 * @param event - the output of `validateEvent`
 * @param store - the store's fields: `id` (used only when the event has none), `received` (also the default `time`), `index`
 * @returns the record, whose canonical bytes are the leaf entry (`entryBytes(prepareEvent(event), store)` writes them without making it)
 * @throws RangeError if the event's id and `store.id` differ, `index` is not a safe non-negative integer, or the submitter is out of bounds
 */
export function toRecord(event: EventInput, store: StoreFields): EventRecord {
  checkStoreFields(event.id, store);
  // recordBytes writes the members in RFC 8785 order whatever their order here:
  // the required ones come in one literal, which V8 allocates at once.
  const a = event.actor;
  const actor = {} as Actor;
  if (a.email !== undefined) actor.email = a.email;
  if (a.groups !== undefined) actor.groups = [...a.groups];
  if (a.id !== undefined) actor.id = a.id;
  if (a.idp !== undefined) actor.idp = a.idp;
  if (a.name !== undefined) actor.name = a.name;
  actor.verified = a.verified;
  const record: EventRecord = {
    action: event.action,
    actor,
    id: event.id ?? store.id,
    index: store.index,
    outcome: event.outcome,
    received: store.received,
    source: event.source,
    time: event.time ?? store.received,
    v: 1,
  };
  if (event.details !== undefined) record.details = event.details;
  if (event.device !== undefined) {
    const d = event.device;
    record.device = d.prev === undefined ? { id: d.id, seq: d.seq } : { id: d.id, prev: d.prev, seq: d.seq };
  }
  if (event.host !== undefined) record.host = event.host;
  if (event.reason !== undefined) record.reason = event.reason;
  if (store.submitter !== undefined) {
    const sub = store.submitter;
    record.submitter = sub.name === undefined ? { id: sub.id, type: sub.type } : { id: sub.id, name: sub.name, type: sub.type };
  }
  if (event.target !== undefined) {
    const t = event.target;
    const target = {} as Target;
    if (t.id !== undefined) target.id = t.id;
    if (t.name !== undefined) target.name = t.name;
    target.type = t.type;
    record.target = target;
  }
  return record;
}
