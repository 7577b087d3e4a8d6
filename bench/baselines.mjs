// What the same bytes cost without Stele: plain better-sqlite3 rows and
// hypercore blocks. Both get the canonical entry bytes of the bench events,
// computed once with the real toRecord + recordBytes.
import Database from 'better-sqlite3';
import Hypercore from 'hypercore';
import { formatTime, recordBytes, toRecord, validateEvent } from '../packages/log/dist/index.js';
import { benchEvent } from './events.mjs';
import { now, tempDir } from './lib.mjs';

/** The canonical entries of benchEvent(0 .. count - 1), as Buffers. */
export function entryBytes(count) {
  const received = formatTime(Date.UTC(2026, 10, 27, 12));
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const result = validateEvent(benchEvent(i));
    if (!result.ok) throw new Error(`bench event ${i} is invalid: ${JSON.stringify(result.errors)}`);
    const bytes = recordBytes(toRecord(result.event, { id: result.event.id, received, index: i }));
    out[i] = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return out;
}

/**
 * Rows per second of `count` rows written by `insert(db)`'s function (over
 * rows [start, end)) in a new database with `schema`, WAL, synchronous=FULL,
 * transactions of `batch` rows; `pragmas` go first (a page size).
 */
function timedSqlite(name, { pragmas = [], schema, insert }, count, batch) {
  const dir = tempDir(name);
  const db = new Database(`${dir}/${name}.db`);
  for (const p of [...pragmas, 'journal_mode = WAL', 'synchronous = FULL']) db.pragma(p);
  db.exec(schema);
  const commit = db.transaction(insert(db));
  const t = now();
  for (let i = 0; i < count; i += batch) commit(i, Math.min(count, i + batch));
  const elapsed = now() - t;
  db.close();
  return { rate: count / (elapsed / 1000), dir };
}

/** Rows per second: one table, WAL, synchronous=FULL, transactions of `batch` inserts. */
export function sqliteBaseline(entries, batch) {
  return timedSqlite('sqlite', {
    schema: 'CREATE TABLE e (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)',
    insert: (db) => {
      const row = db.prepare('INSERT INTO e (idx, data) VALUES (?, ?)');
      return (start, end) => {
        for (let i = start; i < end; i++) row.run(i, entries[i]);
      };
    },
  }, entries.length, batch);
}

/**
 * Rows per second of the SQLite writes the store must make for each
 * event, and nothing else (no validation, hashing, tree or checkpoint): the
 * entry row with its unique id index, and the full-text index over the
 * indexed fields, one FTS5 document per 64 entries as the store keeps it;
 * 16 KiB pages, WAL, synchronous=FULL, transactions of `batch`. Not a target:
 * it shows how much of a thread's time the store's commit cannot give back.
 */
export function sqliteIndexedBaseline(entries, batch) {
  const words = entries.map((_, i) => {
    const e = benchEvent(i);
    return [e.source, e.outcome, e.action, e.actor.id, e.actor.email, e.target.id, e.target.name, e.host].join(' ');
  });
  return timedSqlite('sqlite-indexed', {
    pragmas: ['page_size = 16384'],
    schema: `CREATE TABLE e (idx INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, data BLOB NOT NULL);
      CREATE VIRTUAL TABLE t USING fts5 (doc, tokenize = 'ascii', detail = none, columnsize = 0)`,
    insert: (db) => {
      const row = db.prepare('INSERT INTO e (idx, id, data) VALUES (?, ?, ?)');
      const doc = db.prepare('INSERT INTO t (rowid, doc) VALUES (?, ?)');
      return (start, end) => {
        for (let i = start; i < end; i++) row.run(i, `bench-${i}`, entries[i]);
        for (let u = start; u < end; u += 64) doc.run(u, words.slice(u, Math.min(end, u + 64)).join('\n'));
      };
    },
  }, entries.length, batch);
}

/** Blocks per second: hypercore appends of `batch` blocks. */
export async function hypercoreBaseline(entries, batch) {
  const dir = tempDir('hypercore');
  const core = new Hypercore(dir);
  await core.ready();
  const t = now();
  for (let i = 0; i < entries.length; i += batch) await core.append(entries.slice(i, i + batch));
  const elapsed = now() - t;
  await core.close();
  return { rate: entries.length / (elapsed / 1000), dir };
}
