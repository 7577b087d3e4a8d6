import Database from 'better-sqlite3';
import type { Batch, DriverHead, IndexRow, LogDriver, QueryFilter, ScannedEntry, StoredCheckpoint, StoredEntry } from '../driver.js';
import { StoreError } from '../errors.js';
import { SCHEMA, SCHEMA_VERSION } from './schema.js';

/** Options of the SQLite driver. */
export interface SqliteDriverOptions {
  /** The database file. */
  path: string;
  /** Open without write access (verification, queries). */
  readonly?: boolean;
}

type Row = Record<string, unknown>;

/** better-sqlite3 binds Buffers; view a Uint8Array as one without copying. */
const buf = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** SQLite hands back Buffers; callers get plain Uint8Array views of them. */
const u8 = (b: unknown): Uint8Array => {
  const buffer = b as Buffer;
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
};

const SCAN_COLUMNS = `e.idx, e.id, e.leaf_hash, e.data, i.idx AS row_idx, i.time, i.received, i.source, i.action,
  i.actor_id, i.actor_email, i.target_type, i.target_id, i.target_name, i.outcome, i.text`;

/**
 * Opens (creating if needed) a log in one SQLite file: WAL with
 * synchronous=FULL, so a committed batch survives power loss and kill -9.
 */
export function openSqliteDriver(options: SqliteDriverOptions): LogDriver {
  const db = new Database(options.path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
    const version = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get('schema') as string | undefined;
    if (version === undefined) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema', SCHEMA_VERSION);
    else if (version !== SCHEMA_VERSION) throw new StoreError('ERR_STORE_CORRUPT', `unsupported schema version ${version}`);
  }
  db.pragma('busy_timeout = 5000');

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
    scan: db.prepare(`SELECT ${SCAN_COLUMNS} FROM entries e LEFT JOIN event_index i ON i.idx = e.idx
      WHERE e.idx >= ? AND e.idx < ? ORDER BY e.idx`),
    indexRows: db.prepare('SELECT count(*) FROM event_index').pluck(),
  };
  const write = options.readonly
    ? undefined
    : {
        putMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)'),
        entry: db.prepare('INSERT INTO entries (idx, id, leaf_hash, data) VALUES (?, ?, ?, ?)'),
        row: db.prepare(`INSERT INTO event_index (idx, time, received, source, action, actor_id, actor_email,
          target_type, target_id, target_name, outcome, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
        text: db.prepare('INSERT INTO event_text (rowid, text) VALUES (?, ?)'),
        hash: db.prepare('INSERT INTO tree_hashes (level, idx, hash) VALUES (?, ?, ?)'),
        checkpoint: db.prepare('INSERT INTO checkpoints (size, created, note) VALUES (?, ?, ?)'),
        latest: db.prepare(`INSERT INTO checkpoint_latest (one, size, created, note) VALUES (1, ?, ?, ?)
          ON CONFLICT (one) DO UPDATE SET size = excluded.size, created = excluded.created, note = excluded.note`),
      };

  const commit = write
    ? db.transaction((batch: Batch) => {
        for (const e of batch.entries) {
          write.entry.run(e.index, e.id, buf(e.leafHash), buf(e.bytes));
          const r = e.row;
          write.row.run(e.index, r.time, r.received, r.source, r.action, r.actorId, r.actorEmail, r.targetType, r.targetId, r.targetName, r.outcome, r.text);
          write.text.run(e.index, r.text);
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
  const toRow = (r: Row): IndexRow | undefined =>
    r.row_idx === null
      ? undefined
      : {
          time: r.time as number,
          received: r.received as number,
          source: r.source as string,
          action: r.action as string,
          actorId: r.actor_id as string | null,
          actorEmail: r.actor_email as string | null,
          targetType: r.target_type as string | null,
          targetId: r.target_id as string | null,
          targetName: r.target_name as string | null,
          outcome: r.outcome as string,
          text: r.text as string,
        };

  function readHashes(level: number, start: number, end: number): Uint8Array[] {
    const rows = (level === 0 ? stmt.leafHashes.all(start, end) : stmt.treeHashes.all(level, start, end)) as [number, Uint8Array][];
    if (rows.length !== end - start) {
      throw new StoreError('ERR_NOT_FOUND', `missing stored hashes at level ${level} in [${start}, ${end})`);
    }
    return rows.map((r) => u8(r[1]));
  }

  return {
    kind: 'sqlite',
    async getMeta(key) {
      return stmt.getMeta.get(key) as string | undefined;
    },
    async putMeta(key, value) {
      if (!write) throw new StoreError('ERR_READ_ONLY', 'the store is open read-only');
      write.putMeta.run(key, value);
    },
    async head(): Promise<DriverHead> {
      const max = stmt.maxIdx.get() as number | null;
      return {
        size: max === null ? 0 : max + 1,
        latest: toCheckpoint(stmt.latest.get() as Row | undefined),
        lastHistoric: toCheckpoint(stmt.lastHistoric.get() as Row | undefined),
      };
    },
    async commit(batch) {
      if (!commit) throw new StoreError('ERR_READ_ONLY', 'the store is open read-only');
      commit(batch);
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
      for (const id of ids) {
        const row = stmt.byId.get(id) as Row | undefined;
        if (row) found.set(id, toEntry(row));
      }
      return found;
    },
    async readCheckpoints() {
      return (stmt.checkpoints.all() as Row[]).map((r) => toCheckpoint(r)!);
    },
    async query(filter) {
      return runQuery(db, filter);
    },
    async scan(start, end) {
      return (stmt.scan.all(start, end) as Row[]).map((r): ScannedEntry => ({ ...toEntry(r), row: toRow(r) }));
    },
    async scanHashes(level, start, end) {
      return new Map((stmt.treeHashes.all(level, start, end) as [number, Uint8Array][]).map(([i, h]) => [i, u8(h)]));
    },
    async indexHealth() {
      const rows = stmt.indexRows.get() as number;
      let problem: string | undefined;
      try {
        // FTS5 compares its index with the external content table (event_index).
        db.prepare("INSERT INTO event_text (event_text, rank) VALUES ('integrity-check', 1)").run();
      } catch (err) {
        problem = `full-text index does not match the index rows: ${(err as Error).message}`;
      }
      return { rows, problem };
    },
    async close() {
      db.close();
    },
  };
}

/** The upper bound of a string prefix range: the prefix with its last code unit incremented. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** Turns free text into an FTS5 query: every word a quoted phrase, all required. */
export function ftsQuery(text: string): string {
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => `"${w.replaceAll('"', '""')}"`)
    .join(' ');
}

function runQuery(db: Database.Database, f: QueryFilter): number[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.actor !== undefined) {
    where.push('(actor_id = ? OR actor_email = ?)');
    args.push(f.actor, f.actor);
  }
  if (f.action !== undefined) {
    const prefix = f.action.endsWith('*') ? f.action.slice(0, -1) : undefined;
    if (prefix) {
      where.push('action >= ? AND action < ?');
      args.push(prefix, prefixEnd(prefix));
    } else if (prefix === undefined) {
      where.push('action = ?');
      args.push(f.action);
    }
  }
  if (f.source !== undefined) {
    where.push('source = ?');
    args.push(f.source);
  }
  if (f.target !== undefined) {
    where.push('(target_id = ? OR target_name = ?)');
    args.push(f.target, f.target);
  }
  if (f.since !== undefined) {
    where.push('time >= ?');
    args.push(f.since);
  }
  if (f.until !== undefined) {
    where.push('time < ?');
    args.push(f.until);
  }
  if (f.before !== undefined) {
    where.push('idx < ?');
    args.push(f.before);
  }
  if (f.text !== undefined && ftsQuery(f.text) !== '') {
    where.push('idx IN (SELECT rowid FROM event_text WHERE event_text MATCH ?)');
    args.push(ftsQuery(f.text));
  }
  const sql = `SELECT idx FROM event_index ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY idx DESC LIMIT ?`;
  args.push(f.limit);
  return db.prepare(sql).pluck().all(...args) as number[];
}
