import type { EventRecord } from './event.js';

/** The CSV columns of an exported record, in order (the CLI's `query --csv` and the console). */
export const CSV_COLUMNS = ['index', 'id', 'time', 'received', 'source', 'action', 'actor_id', 'actor_email', 'actor_name', 'actor_verified',
  'target_type', 'target_id', 'target_name', 'outcome', 'reason', 'host'] as const;

function csvCells(r: EventRecord): (string | number | boolean | undefined)[] {
  return [r.index, r.id, r.time, r.received, r.source, r.action, r.actor.id, r.actor.email, r.actor.name, r.actor.verified,
    r.target?.type, r.target?.id, r.target?.name, r.outcome, r.reason, r.host];
}

/**
 * Text a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab or a
 * carriage return first): events are written by whoever sends them, and an
 * auditor opens the export in a spreadsheet.
 */
const FORMULA = /^[=+\-@\t\r]/;

/**
 * RFC 4180: quote a field holding a comma, quote or line break; double the
 * quotes. Text that would start a formula gets a `'` in front (OWASP's
 * advice), so a spreadsheet shows it rather than runs it; the JSON export and
 * the evidence bundle keep every value as it is.
 */
function csvField(value: string | number | boolean | undefined): string {
  let s = value === undefined ? '' : String(value);
  if (typeof value === 'string' && FORMULA.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * Records as RFC 4180 CSV with a header line and CRLF line ends.
 *
 * @param records - the records, in the order wanted
 * @returns the CSV text
 */
export function toCsv(records: readonly EventRecord[]): string {
  const lines = [CSV_COLUMNS.join(','), ...records.map((r) => csvCells(r).map(csvField).join(','))];
  return lines.join('\r\n') + '\r\n';
}
