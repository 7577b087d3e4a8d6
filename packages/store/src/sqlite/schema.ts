/**
 * The SQLite schema. Every log table refuses UPDATE and DELETE through
 * triggers, so even code with the file open cannot quietly rewrite history;
 * exempt are `checkpoint_latest`, one row that each batch replaces, and the
 * full-text table, whose own segment merges rewrite its shadow tables
 * (verification compares it with the entries instead).
 */

export const SCHEMA_VERSION = '1';

/** Tables whose rows are never changed or removed. */
export const APPEND_ONLY_TABLES = ['meta', 'entries', 'tree_hashes', 'checkpoints', 'batches', 'postings'] as const;

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

CREATE TABLE IF NOT EXISTS batches (
  first INTEGER PRIMARY KEY,
  last INTEGER NOT NULL,
  min_time INTEGER NOT NULL,
  max_time INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS postings (
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  first INTEGER NOT NULL,
  offsets BLOB NOT NULL,
  PRIMARY KEY (field, value, first)
) WITHOUT ROWID;

CREATE VIRTUAL TABLE IF NOT EXISTS batch_text USING fts5 (words);
${APPEND_ONLY_TABLES.map(
  (t) => `
CREATE TRIGGER IF NOT EXISTS ${t}_no_update BEFORE UPDATE ON ${t}
BEGIN SELECT RAISE(ABORT, 'stele: ${t} is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ${t}_no_delete BEFORE DELETE ON ${t}
BEGIN SELECT RAISE(ABORT, 'stele: ${t} is append-only'); END;`,
).join('\n')}
`;
