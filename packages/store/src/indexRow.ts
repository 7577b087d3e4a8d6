import { parseTime, type EventRecord } from '@stele/log';
import type { IndexRow } from './driver.js';

/** Most free text one event contributes to the full-text index. */
const TEXT_LIMIT = 4096;

/**
 * The query-index row of a stored record. Verification recomputes it from the
 * entry and compares, so an edited index row is caught.
 */
export function indexRowOf(record: EventRecord): IndexRow {
  return {
    time: parseTime(record.time),
    received: parseTime(record.received),
    source: record.source,
    action: record.action,
    actorId: record.actor.id ?? null,
    actorEmail: record.actor.email ?? null,
    targetType: record.target?.type ?? null,
    targetId: record.target?.id ?? null,
    targetName: record.target?.name ?? null,
    outcome: record.outcome,
    text: freeText(record),
  };
}

/** The words a text search should find the event by. */
function freeText(record: EventRecord): string {
  const parts: string[] = [record.action];
  const push = (value: string | undefined) => {
    if (value) parts.push(value);
  };
  push(record.actor.name);
  push(record.actor.email);
  push(record.actor.id);
  push(record.target?.id);
  push(record.target?.name);
  push(record.reason);
  push(record.host);
  if (record.details) collectStrings(record.details, parts);
  const text = parts.join(' ');
  return text.length > TEXT_LIMIT ? text.slice(0, TEXT_LIMIT) : text;
}

function collectStrings(value: unknown, out: string[], depth = 0): void {
  if (depth > 4) return;
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out, depth + 1);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) collectStrings(v, out, depth + 1);
}
