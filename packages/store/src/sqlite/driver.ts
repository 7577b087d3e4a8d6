import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Batch, DriverHead, LogDriver, StoredCheckpoint, StoredEntry } from '../driver.js';
import { StoreError } from '../errors.js';
import { setReaderSource } from '../readerSource.js';
import { findGuardProblems } from './guards.js';
import { sqliteIndexChecker } from './indexChecker.js';
import { migrateFromV1 } from './migrate.js';
import { candidates, prepareQueries } from './query.js';
import { PAGE_SIZE, SCHEMA, SCHEMA_VERSION } from './schema.js';
import { unitsOf } from './unitIndex.js';

/** Options of the SQLite driver. */
export interface SqliteDriverOptions {
  /** The database file. */
  path: string;
  /** Open without write access (verification, queries). */
  readonly?: boolean;
}

type Row = Record<string, unknown>;
const SURROGATE = /[\uD800-\uDFFF]/;

/** better-sqlite3 binds Buffers; view a Uint8Array as one without copying. */
const buf = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** SQLite hands back Buffers; callers get plain Uint8Array views of them. */
const u8 = (b: unknown): Uint8Array => {
  const buffer = b as Buffer;
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
};

/**
 * Opens (creating if needed) a log in one SQLite file: WAL with
 * synchronous=FULL, so a committed batch survives power loss and kill -9.
 */
export function openSqliteDriver(options: SqliteDriverOptions): LogDriver {
  const db = new Database(options.path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  db.pragma('busy_timeout = 5000');
  if (!options.readonly) {
    db.pragma(`page_size = ${PAGE_SIZE}`); // only a new, empty file takes it
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    openSchema(db);
  } else if (schemaVersion(db) !== SCHEMA_VERSION) {
    db.close();
    throw new StoreError('ERR_STORE_CORRUPT', 'the store has an older query index; open it once with write access to migrate it');
  }

  const stmt = {
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
    maxIdx: db.prepare('SELECT max(idx) FROM entries').pluck(),
    latest: db.prepare('SELECT size, created, note FROM checkpoint_latest WHERE one = 1'),
    lastHistoric: db.prepare('SELECT size, created, note FROM checkpoints ORDER BY size DESC LIMIT 1'),
    checkpoints: db.prepare('SELECT size, created, note FROM checkpoints ORDER BY size'),
    entries: db.prepare('SELECT idx, id, leaf_hash, data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx'),
    leafHashes: db.prepare('SELECT idx, leaf_hash FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx').raw(),
    treeHashes: db.prepare('SELECT idx, hash FROM tree_hashes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx').raw(),
    byId: db.prepare('SELECT idx, id, leaf_hash, data FROM entries WHERE id = ?'),
    byIds: db.prepare('SELECT idx, id, leaf_hash, data FROM entries WHERE id IN (SELECT value FROM json_each(?))'),
  };
  const queries = prepareQueries(db);
  const write = options.readonly
    ? undefined
    : {
        putMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)'),
        entry: db.prepare('INSERT INTO entries (idx, id, leaf_hash, data) VALUES (?, ?, ?, ?)'),
        unit: db.prepare('INSERT INTO units (first, last, min_time, max_time) VALUES (?, ?, ?, ?)'),
        doc: db.prepare('INSERT INTO unit_text (rowid, doc) VALUES (?, ?)'),
        hash: db.prepare('INSERT INTO tree_hashes (level, idx, hash) VALUES (?, ?, ?)'),
        checkpoint: db.prepare('INSERT INTO checkpoints (size, created, note) VALUES (?, ?, ?)'),
        latest: db.prepare(`INSERT INTO checkpoint_latest (one, size, created, note) VALUES (1, ?, ?, ?)
          ON CONFLICT (one) DO UPDATE SET size = excluded.size, created = excluded.created, note = excluded.note`),
      };

  const commit = write
    ? db.transaction((batch: Batch) => {
        const stored = ((stmt.maxIdx.get() as number | null) ?? -1) + 1;
        const first = batch.entries[0]?.index ?? batch.checkpoint.size;
        if (first !== stored) throw new StoreError('ERR_SIZE_CONFLICT', `batch starts at ${first} but ${stored} entries are stored`);
        if (batch.parent !== undefined && ((stmt.latest.get() as Row | undefined)?.note ?? null) !== batch.parent) {
          throw new StoreError('ERR_SIZE_CONFLICT', 'the batch was sequenced on a checkpoint that is no longer the latest');
        }
        const { entries } = batch;
        for (let i = 0; i < entries.length; i++) {
          const e = entries[i]!;
          if (e.index !== first + i) throw new RangeError('a batch holds consecutive entries');
          write.entry.run(e.index, e.id, buf(e.leafHash), buf(e.bytes));
        }
        if (entries.length > 0) {
          for (const u of unitsOf(first, entries.map((e) => e.row))) {
            write.unit.run(u.first, u.last, u.minTime, u.maxTime);
            write.doc.run(u.first, u.doc);
          }
        }
        for (const h of batch.hashes) write.hash.run(h.level, h.index, buf(h.hash));
        const cp = batch.checkpoint;
        if (batch.historic) write.checkpoint.run(cp.size, cp.created, cp.note);
        write.latest.run(cp.size, cp.created, cp.note);
      })
    : undefined;

  const toEntry = (r: Row): StoredEntry => ({
    index: r.idx as number,
    id: r.id as string,
    leafHash: u8(r.leaf_hash),
    bytes: u8(r.data),
  });
  const toCheckpoint = (r: Row | undefined): StoredCheckpoint | undefined =>
    r && { size: r.size as number, created: r.created as number, note: r.note as string };
  function readHashes(level: number, start: number, end: number): Uint8Array[] {
    const rows = (level === 0 ? stmt.leafHashes.all(start, end) : stmt.treeHashes.all(level, start, end)) as [number, Uint8Array][];
    if (rows.length !== end - start) {
      throw new StoreError('ERR_NOT_FOUND', `missing stored hashes at level ${level} in [${start}, ${end})`);
    }
    return rows.map((r) => u8(r[1]));
  }

  /** The size and checkpoints in one read transaction: another process's commit lands before or after all three. */
  const readHead = db.transaction((): DriverHead => {
    const max = stmt.maxIdx.get() as number | null;
    return {
      size: max === null ? 0 : max + 1,
      latest: toCheckpoint(stmt.latest.get() as Row | undefined),
      lastHistoric: toCheckpoint(stmt.lastHistoric.get() as Row | undefined),
    };
  });

  const driver: LogDriver = {
    kind: 'sqlite',
    async getMeta(key) {
      return stmt.getMeta.get(key) as string | undefined;
    },
    async putMeta(key, value) {
      if (!write) throw new StoreError('ERR_READ_ONLY', 'the store is open read-only');
      write.putMeta.run(key, value);
    },
    async head(): Promise<DriverHead> {
      return readHead();
    },
    async commit(batch) {
      if (!commit) throw new StoreError('ERR_READ_ONLY', 'the store is open read-only');
      // IMMEDIATE takes the write lock first, so the size check and the writes are one step.
      commit.immediate(batch);
    },
    async readEntries(start, end) {
      const rows = (stmt.entries.all(start, end) as Row[]).map(toEntry);
      if (rows.length !== end - start) throw new StoreError('ERR_NOT_FOUND', `missing entries in [${start}, ${end})`);
      return rows;
    },
    async readHashes(level, start, end) {
      return readHashes(level, start, end);
    },
    async findIds(ids) {
      const found = new Map<string, StoredEntry>();
      // A group commit looks up every id of its batch: one statement for all
      // of them rather than one per id, unless a string would not survive
      // the trip through JSON text (a surrogate, paired or not).
      if (ids.length > 1 && !ids.some((id) => SURROGATE.test(id))) {
        const rows = new Map<string, Row>();
        for (const row of stmt.byIds.all(JSON.stringify(ids)) as Row[]) rows.set(row.id as string, row);
        for (const id of ids) {
          const row = rows.get(id);
          if (row) found.set(id, toEntry(row));
        }
        return found;
      }
      for (const id of ids) {
        const row = stmt.byId.get(id) as Row | undefined;
        if (row) found.set(id, toEntry(row));
      }
      return found;
    },
    async readCheckpoints() {
      return (stmt.checkpoints.all() as Row[]).map((r) => toCheckpoint(r)!);
    },
    async readMany(indexes) {
      // Candidates come in runs of consecutive indexes (whole units, newest first): one range read per run.
      const out: StoredEntry[] = new Array(indexes.length);
      for (let i = 0; i < indexes.length; ) {
        let j = i + 1;
        const step = indexes[i + 1] === indexes[i]! - 1 ? -1 : 1;
        while (j < indexes.length && indexes[j] === indexes[j - 1]! + step) j++;
        const low = step === 1 ? indexes[i]! : indexes[j - 1]!;
        const rows = Number.isSafeInteger(low) ? (stmt.entries.all(low, low + (j - i)) as Row[]) : [];
        if (rows.length !== j - i) {
          const missing = indexes.slice(i, j).find((index) => !rows.some((r) => r.idx === index));
          throw new StoreError('ERR_NOT_FOUND', `no entry at index ${missing}`);
        }
        for (let k = 0; k < rows.length; k++) out[step === 1 ? i + k : j - 1 - k] = toEntry(rows[k]!);
        i = j;
      }
      return out;
    },
    async *query(filter) {
      yield* candidates(queries, filter);
    },
    async scan(start, end) {
      return (stmt.entries.all(start, end) as Row[]).map(toEntry);
    },
    async scanHashes(level, start, end) {
      return new Map((stmt.treeHashes.all(level, start, end) as [number, Uint8Array][]).map(([i, h]) => [i, u8(h)]));
    },
    indexChecker() {
      return sqliteIndexChecker(db);
    },
    async guardProblems() {
      return findGuardProblems(db);
    },
    async close() {
      db.close();
    },
  };
  // Verification reads the store from worker threads too, over their own connections.
  if (options.path !== '' && options.path !== ':memory:') {
    setReaderSource(driver, { kind: 'sqlite', path: resolve(options.path), readonly: options.readonly ?? false });
  }
  return driver;
}

function schemaVersion(db: Database.Database): string | undefined {
  const meta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").pluck().get();
  return meta === undefined ? undefined : (db.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get() as string | undefined);
}

/** Creates the tables of a new store, migrates a version 1 store, refuses any other. */
function openSchema(db: Database.Database): void {
  const version = schemaVersion(db);
  if (version === '1') migrateFromV1(db);
  else if (version === undefined) {
    db.transaction(() => {
      db.exec(SCHEMA);
      db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?) ON CONFLICT DO NOTHING").run(SCHEMA_VERSION);
    }).immediate();
    openSchema(db); // another process may have created a store meanwhile
  } else if (version !== SCHEMA_VERSION) {
    db.close();
    throw new StoreError('ERR_STORE_CORRUPT', `unsupported schema version ${version}`);
  }
}
