import type Database from 'better-sqlite3';
import type { QueryFilter } from '../driver.js';
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
  };
}

/**
 * Candidate indexes, newest first: every entry of every unit whose words and
 * time range allow a match (see unitIndex.ts). The full-text index drives the
 * walk when the filter has words, the units themselves otherwise.
 */
export function* candidates(q: Queries, filter: QueryFilter): Generator<number[]> {
  const match = unitMatch(filter);
  const since = filter.since ?? Number.MIN_SAFE_INTEGER;
  const until = filter.until ?? Number.MAX_SAFE_INTEGER;
  const before = filter.before ?? Number.MAX_SAFE_INTEGER;
  let chunk = FIRST_CHUNK;
  let out: number[] = [];
  let cursor = before;
  for (;;) {
    const page = (match === undefined ? q.unitPage.all(cursor, since, until, PAGE) : q.textPage.all(match, cursor, since, until, PAGE)) as UnitRow[];
    for (const [first, last] of page) {
      for (let i = Math.min(last, before - 1); i >= first; i--) out.push(i);
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
