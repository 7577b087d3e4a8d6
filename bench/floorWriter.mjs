// The writer thread of bench/floor.mjs: the SQLite writes issue #2 asks of
// each batch, in one transaction, and nothing else.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.file);
for (const p of ['page_size = 16384', 'journal_mode = WAL', 'synchronous = FULL']) db.pragma(p);
db.exec(`
  CREATE TABLE entries (idx INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, leaf_hash BLOB NOT NULL, data BLOB NOT NULL);
  CREATE TABLE tree_hashes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
  CREATE TABLE checkpoint_latest (one INTEGER PRIMARY KEY, size INTEGER NOT NULL, note TEXT NOT NULL);
  CREATE VIRTUAL TABLE unit_text USING fts5 (doc, tokenize = 'ascii', detail = none, columnsize = 0);`);
const entry = db.prepare('INSERT INTO entries (idx, id, leaf_hash, data) VALUES (?, ?, ?, ?)');
const tile = db.prepare('INSERT INTO tree_hashes (level, idx, hash) VALUES (8, ?, ?)');
const latest = db.prepare('INSERT OR REPLACE INTO checkpoint_latest (one, size, note) VALUES (1, ?, ?)');
const text = db.prepare('INSERT INTO unit_text (rowid, doc) VALUES (?, ?)');

const commit = db.transaction(({ first, count, ids, ends, leaves, packed, docs, note }) => {
  const bytes = Buffer.from(packed);
  const hashes = Buffer.from(leaves.buffer, leaves.byteOffset, leaves.byteLength);
  const idList = ids.split('\n');
  let start = 0;
  for (let k = 0; k < count; k++) {
    const leaf = hashes.subarray(32 * k, 32 * k + 32);
    entry.run(first + k, idList[k], leaf, bytes.subarray(start + 1, ends[k]));
    start = ends[k];
    // Stands in for a tile-level hash: one row every 256 entries, as many as the real ones.
    if ((first + k + 1) % 256 === 0) tile.run((first + k + 1) / 256 - 1, leaf);
  }
  let unit = first;
  for (const doc of docs) {
    text.run(unit, doc);
    unit = (Math.floor(unit / 64) + 1) * 64;
  }
  latest.run(first + count, note);
});

parentPort.on('message', (batch) => {
  commit(batch);
  parentPort.postMessage(batch.first + batch.count);
});
parentPort.postMessage('ready');
