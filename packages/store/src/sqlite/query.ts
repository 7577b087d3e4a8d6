import type Database from 'better-sqlite3';
import type { QueryFilter } from '../driver.js';
import { actionPattern } from '../filter.js';
import { queryTerms } from '../text.js';
import { unitMatch } from './unitIndex.js';

/** Units read per statement. */
const PAGE = 256;
/** Indexes per yield: the first slice is about a console page, later ones grow. */
const FIRST_CHUNK = 64;
const MAX_CHUNK = 4096;
type UnitRow = [first: number, last: number];

/** Statements of the unit index, prepared once per connection. */
export interface Queries {
  textPage: Database.Statement;
  unitPage: Database.Statement;
  texts: Database.Statement;
}

/** Prepares the statements of the unit index. */
export function prepareQueries(db: Database.Database): Queries {
  return {
    // FTS5 walks its matches by rowid (a unit's first entry), newest first; each unit's zone by primary key.
    textPage: db
      .prepare(`SELECT u.first, u.last FROM unit_text AS t JOIN units AS u ON u.first = t.rowid
        WHERE unit_text MATCH ? AND t.rowid < ? AND u.max_time >= ? AND u.min_time < ? ORDER BY t.rowid DESC LIMIT ?`)
      .raw(),
    unitPage: db.prepare('SELECT first, last FROM units WHERE first < ? AND max_time >= ? AND min_time < ? ORDER BY first DESC LIMIT ?').raw(),
    texts: db.prepare('SELECT idx, CAST(data AS TEXT) FROM entries WHERE idx >= ? AND idx <= ? ORDER BY idx DESC').raw(),
  };
}

const SURROGATE = /[\uD800-\uDFFF]/;
const ASCII_WORD = /^[a-z0-9]+$/;

/**
 * What the stored text of an entry that matches the filter must contain, or
 * undefined when nothing can be said. The log writes canonical JSON, whose
 * strings are JSON.stringify's: an exact value stands in it as its JSON
 * string, an action prefix as the start of one; and every ASCII word of the
 * free text (made of the record's strings) in the text lower-cased as
 * text.ts lower-cases. An entry with a backslash may escape otherwise and is
 * kept; values with surrogates are left out.
 */
export function entryNeedles(filter: QueryFilter): { exact: string[]; words: string[] } | undefined {
  const exact: string[] = [];
  for (const value of [filter.actor, filter.target, filter.source, filter.outcome]) {
    if (value !== undefined && !SURROGATE.test(value)) exact.push(JSON.stringify(value));
  }
  const action = filter.action === undefined ? undefined : actionPattern(filter.action);
  if (action && 'exact' in action && !SURROGATE.test(action.exact)) exact.push(JSON.stringify(action.exact));
  if (action && 'prefix' in action && !SURROGATE.test(action.prefix)) exact.push(JSON.stringify(action.prefix).slice(0, -1));
  const words = [...new Set((filter.text === undefined ? [] : queryTerms(filter.text)).flat().filter((w) => ASCII_WORD.test(w)))];
  return exact.length > 0 || words.length > 0 ? { exact, words } : undefined;
}

/** Whether an entry's stored text may match (see entryNeedles); false only when it certainly does not. */
function mayMatch(text: unknown, needles: { exact: string[]; words: string[] }): boolean {
  if (typeof text !== 'string' || text.includes('\\')) return true;
  for (const needle of needles.exact) if (!text.includes(needle)) return false;
  if (needles.words.length > 0) {
    const lower = text.toLowerCase();
    for (const word of needles.words) if (!lower.includes(word)) return false;
  }
  return true;
}

/**
 * Candidate indexes, newest first: the entries of every unit whose words and
 * time range allow a match (see unitIndex.ts), less those whose stored text
 * certainly does not (a scan in place of per-entry postings, far cheaper
 * than the log service's check of a record). The full-text index drives the
 * walk when the filter has words, the units themselves otherwise.
 */
export function* candidates(q: Queries, filter: QueryFilter): Generator<number[]> {
  const match = unitMatch(filter);
  const needles = entryNeedles(filter);
  const since = filter.since ?? Number.MIN_SAFE_INTEGER;
  const until = filter.until ?? Number.MAX_SAFE_INTEGER;
  const before = filter.before ?? Number.MAX_SAFE_INTEGER;
  let chunk = FIRST_CHUNK;
  let out: number[] = [];
  let cursor = before;
  for (;;) {
    const page = (match === undefined ? q.unitPage.all(cursor, since, until, PAGE) : q.textPage.all(match, cursor, since, until, PAGE)) as UnitRow[];
    for (const [first, last] of page) {
      const top = Math.min(last, before - 1);
      if (needles === undefined) for (let i = top; i >= first; i--) out.push(i);
      else for (const [i, text] of q.texts.all(first, top) as [number, unknown][]) if (mayMatch(text, needles)) out.push(i);
      if (out.length >= chunk) {
        yield out;
        out = [];
        chunk = Math.min(chunk * 2, MAX_CHUNK);
      }
    }
    if (page.length < PAGE) break;
    cursor = page[page.length - 1]![0];
  }
  if (out.length > 0) yield out;
}
