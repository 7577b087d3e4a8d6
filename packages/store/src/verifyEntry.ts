/**
 * One entry's text, as verification reads it (verifyChunk.ts): UTF-8 JSON of
 * an event record in canonical form, naming the index it is stored at and the
 * id of its row, and a record that can be indexed. The plain case is scanned
 * in one pass (entryScan.ts), anything else parsed; both give the same
 * findings and rows (entryScan.test.ts).
 */
import { canonicalize, type EventRecord } from '@stele/log';
import { isPlainlyCanonical } from './canonicalText.js';
import type { IndexRow } from './driver.js';
import { FIELD, fieldText, scanEntry, type EntryScan } from './entryScan.js';
import { indexRowOf } from './indexRow.js';
import type { VerifyCode } from './verify.js';

/** What is wrong with an entry's text. */
export class EntryFinding {
  constructor(
    readonly code: VerifyCode,
    readonly message: string,
  ) {}
}

/**
 * Reads the entry stored at `index` under `id` with `text` (undefined when
 * its bytes are not UTF-8). Returns the scan (valid until the next call),
 * the parsed record's index row, or a finding. Entries are hostile: anything
 * may be stored (`text` is not even sure to be a string).
 */
export function readEntry(index: number, id: unknown, text: unknown): EntryScan | IndexRow | EntryFinding {
  const scan = typeof text === 'string' ? scanEntry(text) : undefined;
  return scan === undefined ? readParsedEntry(index, id, text) : readScannedEntry(index, id, scan);
}

/** {@link readEntry} of a text already scanned. */
export function readScannedEntry(index: number, id: unknown, scan: EntryScan): EntryScan | EntryFinding {
  if (scan.index !== index) return new EntryFinding('ERR_ENTRY_INDEX_MISMATCH', `entry ${index} is the record of index ${scan.index}`);
  const s = scan.spans[2 * FIELD.id]!;
  const e = scan.spans[2 * FIELD.id + 1]!;
  if (!(typeof id === 'string' && id.length === e - s && scan.text.startsWith(id, s))) {
    return new EntryFinding('ERR_ENTRY_ID_MISMATCH', `entry ${index} is stored under id ${String(id)} but is ${fieldText(scan, FIELD.id)}`);
  }
  return scan;
}

/** Whether a read is a scan (else a row or a finding). */
export const isScan = (read: EntryScan | IndexRow | EntryFinding): read is EntryScan => 'spans' in read;

const NOT_CANONICAL = 'is not in canonical form';

/** {@link readEntry} by JSON.parse alone: what decides whenever the scan is not sure. */
export function readParsedEntry(index: number, id: unknown, text: unknown): IndexRow | EntryFinding {
  const parsed = parseEntry(text);
  if (typeof parsed === 'string') {
    return new EntryFinding(parsed === NOT_CANONICAL ? 'ERR_ENTRY_NOT_CANONICAL' : 'ERR_ENTRY_MALFORMED', `entry ${index} ${parsed}`);
  }
  if (parsed.index !== index) return new EntryFinding('ERR_ENTRY_INDEX_MISMATCH', `entry ${index} is the record of index ${String(parsed.index)}`);
  if (parsed.id !== id) return new EntryFinding('ERR_ENTRY_ID_MISMATCH', `entry ${index} is stored under id ${String(id)} but is ${String(parsed.id)}`);
  try {
    return indexRowOf(parsed);
  } catch (err) {
    return new EntryFinding('ERR_ENTRY_MALFORMED', `entry ${index} cannot be indexed: ${(err as Error).message}`);
  }
}

/** The record of an entry's text, or what is wrong with it. */
function parseEntry(text: unknown): EventRecord | string {
  if (typeof text !== 'string') return 'is not UTF-8 JSON';
  let record: EventRecord;
  try {
    record = JSON.parse(text) as EventRecord;
  } catch {
    return 'is not UTF-8 JSON';
  }
  if (!record || typeof record !== 'object' || typeof record.actor !== 'object' || record.actor === null) return 'is not an event record';
  // What the log writes passes the quick test; anything else gets the exact comparison.
  if (isPlainlyCanonical(text)) return record;
  let canonical: string;
  try {
    canonical = canonicalize(record);
  } catch {
    return 'has no canonical form';
  }
  return canonical === text ? record : NOT_CANONICAL;
}
