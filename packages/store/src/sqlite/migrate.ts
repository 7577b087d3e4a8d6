import type Database from 'better-sqlite3';
import type { IndexRow } from '../driver.js';
import { rowOfEntry } from '../entryScan.js';
import { INDEX_SCHEMA, SCHEMA_VERSION } from './schema.js';
import { UNIT, unitsOf } from './unitIndex.js';

/** Entries read at a time while rebuilding. */
const SLICE = 4096;

/** The row of an entry that cannot be read as a record: verification reports the entry itself first. */
const UNREADABLE: IndexRow = {
  time: 0, received: 0, source: '', action: '', actorId: null, actorEmail: null, targetType: null, targetId: null, targetName: null, outcome: '', text: '',
};

function rowOf(data: unknown): IndexRow {
  try {
    return rowOfEntry(Buffer.isBuffer(data) ? data : Buffer.from(String(data)));
  } catch {
    return UNREADABLE;
  }
}

/**
 * Migrates a version 1 store to version 2, in one transaction: drops the old
 * query index (`batches`, `postings`, `batch_text`, derived data that
 * verification recomputed), builds the unit index from the entries, and
 * records the new version. Entries, hashes and checkpoints are untouched; the
 * file keeps its page size. Runs when a version 1 store is opened for
 * writing; a second process that opened it meanwhile finds it done.
 */
export function migrateFromV1(db: Database.Database): void {
  db.transaction(() => {
    const version = db.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get();
    if (version !== '1') return;
    db.exec('DROP TABLE IF EXISTS batches; DROP TABLE IF EXISTS postings; DROP TABLE IF EXISTS batch_text;');
    db.exec(INDEX_SCHEMA);
    const read = db.prepare('SELECT idx, data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx').raw();
    const unit = db.prepare('INSERT INTO units (first, last, min_time, max_time) VALUES (?, ?, ?, ?)');
    const doc = db.prepare('INSERT INTO unit_text (rowid, doc) VALUES (?, ?)');
    const max = db.prepare('SELECT max(idx) FROM entries').pluck().get() as number | null;
    const size = max === null ? 0 : max + 1;
    // Units of whole blocks (verification accepts any tiling that keeps within blocks); a missing entry gets a placeholder row.
    for (let start = 0; start < size; start += SLICE) {
      const end = Math.min(size, start + SLICE);
      const rows: IndexRow[] = new Array(end - start).fill(UNREADABLE);
      for (const [idx, data] of read.all(start, end) as [number, unknown][]) rows[idx - start] = rowOf(data);
      for (let at = 0; at < rows.length; at += UNIT) {
        for (const u of unitsOf(start + at, rows.slice(at, at + UNIT))) {
          unit.run(u.first, u.last, u.minTime, u.maxTime);
          doc.run(u.first, u.doc);
        }
      }
    }
    // meta is append-only; this one change lifts its guard for the length of the transaction,
    // then puts back exactly what was there (SQLite runs that statement at every open anyway):
    // a guard found missing or altered stays so, for verification to report.
    const guard = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'meta_no_update'").pluck().get();
    db.exec('DROP TRIGGER IF EXISTS meta_no_update');
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema'").run(SCHEMA_VERSION);
    if (typeof guard === 'string') db.exec(guard);
  }).immediate();
}
