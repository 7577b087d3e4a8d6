import { parseTime, type EventRecord } from '@stele/log';
import type { IndexRow } from './driver.js';

/** Most free text one event contributes to the full-text index. */
const TEXT_LIMIT = 4096;

/**
 * The query-index row of a stored record. Verification recomputes it from the
 * entry and compares, so an edited index row is caught.
 */
export function indexRowOf(record: EventRecord): IndexRow {
  const { actor, target } = record;
  return {
    time: parseTime(record.time),
    received: receivedMs(record.received),
    source: record.source,
    action: record.action,
    actorId: actor.id ?? null,
    actorEmail: actor.email ?? null,
    targetType: target?.type ?? null,
    targetId: target?.id ?? null,
    targetName: target?.name ?? null,
    outcome: record.outcome,
    text: freeText(record),
  };
}

/** The last `received` parsed: a batch of appends shares one. */
let lastReceived: unknown;
let lastReceivedMs = 0;

function receivedMs(text: string): number {
  if (text !== lastReceived) {
    lastReceivedMs = parseTime(text); // throws before the cache changes
    lastReceived = text;
  }
  return lastReceivedMs;
}

/**
 * The words a text search should find the event by: the action, then the
 * non-empty actor name, email and id, target id and name, reason and host,
 * then every string in `details`, space-separated. Verification runs this on
 * records that only parsed as JSON, so a member may have any JSON type; each
 * part is written as `Array.prototype.join` writes it.
 */
function freeText(record: EventRecord): string {
  const { actor, target } = record;
  let text = part(record.action);
  if (actor.name) text += ' ' + part(actor.name);
  if (actor.email) text += ' ' + part(actor.email);
  if (actor.id) text += ' ' + part(actor.id);
  if (target?.id) text += ' ' + part(target.id);
  if (target?.name) text += ' ' + part(target.name);
  if (record.reason) text += ' ' + part(record.reason);
  if (record.host) text += ' ' + part(record.host);
  if (record.details) text = collectStrings(record.details, text, 0);
  return text.length > TEXT_LIMIT ? text.slice(0, TEXT_LIMIT) : text;
}

/** A value as `Array.prototype.join` writes it: null and undefined as nothing. */
const part = (value: unknown): string => (value === null || value === undefined ? '' : String(value));

/** `text` followed by every string in `value` (depth-first, at most 4 levels down), each after a space. */
function collectStrings(value: unknown, text: string, depth: number): string {
  if (depth > 4) return text;
  if (typeof value === 'string') return text + ' ' + value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) text = collectStrings(value[i], text, depth + 1);
  } else if (value && typeof value === 'object') {
    if (forInIsOwn(value)) {
      // Without the array Object.values would make: for-in lists the same keys in the same order here.
      for (const key in value) text = collectStrings((value as Record<string, unknown>)[key], text, depth + 1);
    } else {
      const values = Object.values(value);
      for (let i = 0; i < values.length; i++) text = collectStrings(values[i], text, depth + 1);
    }
  }
  return text;
}

/** Whether for-in over `o` lists exactly its own enumerable keys: nothing it inherits is enumerable. */
function forInIsOwn(o: object): boolean {
  const proto: unknown = Object.getPrototypeOf(o);
  if (proto === null) return true;
  if (proto !== Object.prototype) return false;
  for (const _ in proto) return false;
  return true;
}
