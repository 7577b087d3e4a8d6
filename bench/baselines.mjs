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

/** Rows per second: one table, WAL, synchronous=FULL, transactions of `batch` inserts. */
export function sqliteBaseline(entries, batch) {
  const dir = tempDir('sqlite');
  const db = new Database(`${dir}/plain.db`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE e (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO e (idx, data) VALUES (?, ?)');
  const commit = db.transaction((start, end) => {
    for (let i = start; i < end; i++) insert.run(i, entries[i]);
  });
  const t = now();
  for (let i = 0; i < entries.length; i += batch) commit(i, Math.min(entries.length, i + batch));
  const elapsed = now() - t;
  db.close();
  return { rate: entries.length / (elapsed / 1000), dir };
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
