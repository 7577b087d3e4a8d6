import type { IndexRow, QueryFilter } from '../driver.js';
import { actionPattern } from '../filter.js';
import { queryTerms, tokenize } from '../text.js';

/**
 * The SQLite driver's query index, kept per unit: at most 64 consecutive
 * entries of one commit, never crossing a multiple of 64. A unit has a row in
 * `units` (its entries and the range of their event times: a zone map) and
 * one full-text document in the FTS5 table `unit_text` (rowid = its first
 * entry), made of one segment per entry, in order, separated by newlines.
 *
 * A segment holds the entry's indexed fields and free text. Printable ASCII
 * is stored as it is and left to FTS5's `ascii` tokenizer, whose tokens over
 * printable ASCII are exactly text.ts's (runs of letters and digits, lower
 * case). Anything else is stored as text.ts's tokens joined by spaces: those
 * hold no ASCII separator, so the `ascii` tokenizer (every non-ASCII byte is
 * a token character) gives each back whole. Either way the document's tokens
 * are those of its entries as text.ts sees them, so a query for text.ts's
 * tokens finds every unit that can match. Queries take whole units as
 * candidates (a rare word yields a few units of at most 64 entries) and the
 * log service checks each record exactly.
 *
 * Per-entry B-trees and posting lists cost more than all the rest of a
 * commit; FTS5 writes each commit's terms as one sorted segment instead.
 */

/** Entries per unit at most; units start at multiples of it or where a commit starts. */
export const UNIT = 64;

/** The index row of one unit as written. */
export interface Unit {
  first: number;
  last: number;
  minTime: number;
  maxTime: number;
  /** The unit's full-text document: one segment per entry, newline-separated. */
  doc: string;
}

const PRINTABLE = /^[\x20-\x7e]*$/;
/** Field values as they were always indexed: their string form, null as nothing. */
const part = (value: unknown): string => (value === null || value === undefined ? '' : `${value as string}`);

/** Whether `c` (a char code) is an ASCII letter or digit. */
const alnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/**
 * True when every token of `value` is a token of `text`, printable ASCII:
 * `value` occurs in it where a letter or digit at either end of `value` is
 * not continued by one in `text`.
 */
function holdsWords(text: string, value: string): boolean {
  const openStart = alnum(value.charCodeAt(0));
  const openEnd = alnum(value.charCodeAt(value.length - 1));
  for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1)) {
    const end = at + value.length;
    if ((openStart && at > 0 && alnum(text.charCodeAt(at - 1))) || (openEnd && end < text.length && alnum(text.charCodeAt(end)))) continue;
    return true;
  }
  return false;
}

/**
 * The words of one entry in its unit's document (never holds a newline): the
 * source, outcome and whichever other indexed field the free text does not
 * already hold (index rows carry the action, actor and target in their text),
 * then the free text.
 */
export function segmentOf(row: IndexRow): string {
  const text = part(row.text);
  const head = printableHead(row, text);
  return head === undefined ? tokenSegment(row, text) : `${head} ${text}`;
}

/**
 * Where the segment of `row` ends when `doc` holds it from `at` on, else -1:
 * what verification asks of every entry, answered without building it.
 */
export function segmentEnd(doc: string, at: number, row: IndexRow): number {
  const text = part(row.text);
  const head = printableHead(row, text);
  if (head === undefined) {
    const segment = tokenSegment(row, text);
    return doc.startsWith(segment, at) ? at + segment.length : -1;
  }
  const from = at + head.length + 1;
  return doc.startsWith(head, at) && doc.charCodeAt(from - 1) === 0x20 && doc.startsWith(text, from) ? from + text.length : -1;
}

/** The segment's words before the free text, when both are printable ASCII. */
function printableHead(row: IndexRow, text: string): string | undefined {
  if (!PRINTABLE.test(text)) return undefined;
  let head = `${part(row.source)} ${part(row.outcome)}`;
  for (const field of [row.action, row.actorId, row.actorEmail, row.targetId, row.targetName]) {
    const value = part(field);
    if (value !== '' && !holdsWords(text, value)) head += ' ' + value;
  }
  return PRINTABLE.test(head) ? head : undefined;
}

/** The segment as text.ts's tokens of every indexed field and the free text. */
function tokenSegment(row: IndexRow, text: string): string {
  const fields = [row.source, row.outcome, row.action, row.actorId, row.actorEmail, row.targetId, row.targetName].map(part).join(' ');
  return tokenize(`${fields} ${text}`).join(' ');
}

/** The units of consecutive entries starting at `first` (one commit). */
export function unitsOf(first: number, rows: readonly IndexRow[]): Unit[] {
  const units: Unit[] = [];
  for (let at = 0; at < rows.length; ) {
    const start = first + at;
    const end = Math.min(first + rows.length, (Math.floor(start / UNIT) + 1) * UNIT);
    let minTime = Infinity;
    let maxTime = -Infinity;
    let doc = '';
    for (let k = at; k < end - first; k++) {
      const row = rows[k]!;
      if (row.time < minTime) minTime = row.time;
      if (row.time > maxTime) maxTime = row.time;
      doc = k === at ? segmentOf(row) : doc + '\n' + segmentOf(row);
    }
    units.push({ first: start, last: end - 1, minTime, maxTime, doc });
    at = end - first;
  }
  return units;
}

/** A prefix that ends in a letter or digit, or in half a surrogate pair (the action may go on with a letter). */
const OPEN_END = /[\p{L}\p{N}\uD800-\uDBFF]$/u;
const ASCII_TOKEN = /^[a-z0-9]+$/;

/**
 * The FTS5 query a unit must match to hold a match of the filter, or
 * undefined when no word narrows it. Every token of an exact field value or
 * of a text term is a whole token of a matching entry's segment. Of an
 * action prefix only ASCII tokens are used, the last as a prefix when the
 * filter ends inside a word: a non-ASCII one may lower-case differently
 * (final sigma) once the action goes on.
 */
export function unitMatch(filter: QueryFilter): string | undefined {
  const words = new Set<string>();
  for (const term of filter.text === undefined ? [] : queryTerms(filter.text)) for (const t of term) words.add(`"${t}"`);
  const exact = [filter.actor, filter.target, filter.source, filter.outcome];
  const action = filter.action === undefined ? undefined : actionPattern(filter.action);
  if (action && 'exact' in action) exact.push(action.exact);
  for (const value of exact) if (value !== undefined) for (const t of tokenize(value)) words.add(`"${t}"`);
  if (action && 'prefix' in action) {
    const lower = action.prefix.toLowerCase();
    const tokens = tokenize(lower);
    const open = OPEN_END.test(lower);
    tokens.forEach((t, i) => {
      if (!ASCII_TOKEN.test(t)) return;
      words.add(open && i === tokens.length - 1 ? `"${t}"*` : `"${t}"`);
    });
  }
  return words.size > 0 ? [...words].join(' ') : undefined;
}
