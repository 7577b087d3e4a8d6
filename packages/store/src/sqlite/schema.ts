/**
 * The SQLite schema. Every log table refuses UPDATE and DELETE through
 * triggers, so even code with the file open cannot quietly rewrite history;
 * exempt are `checkpoint_latest`, one row that each batch replaces, and the
 * full-text table, whose own segment merges rewrite its shadow tables
 * (verification compares it with the entries instead).
 *
 * Version 2 replaced version 1's query index (per commit: `batches`,
 * `postings`, `batch_text`) with units of at most 64 entries (`units`,
 * `unit_text`); a version 1 store is migrated when first opened for writing
 * (migrate.ts). New stores use 16 KiB pages: entries append with fewer page
 * writes per commit.
 */

export const SCHEMA_VERSION = '2';

/** The page size of new stores; an existing file keeps its own. */
export const PAGE_SIZE = 16_384;

/** Tables whose rows are never changed or removed. */
export const APPEND_ONLY_TABLES = ['meta', 'entries', 'tree_hashes', 'checkpoints', 'units'] as const;

/** The append-only guards of a table: each trigger's name and CREATE statement. */
export function guardTriggers(table: string): { name: string; sql: string }[] {
  return (['UPDATE', 'DELETE'] as const).map((op) => ({
    name: `${table}_no_${op.toLowerCase()}`,
    sql: `CREATE TRIGGER IF NOT EXISTS ${table}_no_${op.toLowerCase()} BEFORE ${op} ON ${table}
BEGIN SELECT RAISE(ABORT, 'stele: ${table} is append-only'); END;`,
  }));
}

/** The append-only guards of a table, as one script. */
export function guards(table: string): string {
  return ['', ...guardTriggers(table).map((t) => t.sql)].join('\n');
}

/** The query index (unitIndex.ts); FTS5 with the `ascii` tokenizer, rowids only, no per-document sizes. */
export const INDEX_SCHEMA = `
CREATE TABLE IF NOT EXISTS units (
  first INTEGER PRIMARY KEY,
  last INTEGER NOT NULL,
  min_time INTEGER NOT NULL,
  max_time INTEGER NOT NULL
);

CREATE VIRTUAL TABLE IF NOT EXISTS unit_text USING fts5 (doc, tokenize = 'ascii', detail = none, columnsize = 0);
${guards('units')}
`;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS entries (
  idx INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  leaf_hash BLOB NOT NULL,
  data BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS tree_hashes (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS checkpoints (
  size INTEGER PRIMARY KEY,
  created INTEGER NOT NULL,
  note TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS checkpoint_latest (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  size INTEGER NOT NULL,
  created INTEGER NOT NULL,
  note TEXT NOT NULL
);
${['meta', 'entries', 'tree_hashes', 'checkpoints'].map(guards).join('\n')}
${INDEX_SCHEMA}`;
