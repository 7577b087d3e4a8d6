/**
 * The SQLite schema. Every log table refuses UPDATE and DELETE through
 * triggers, so even code with the file open cannot quietly rewrite history;
 * only `checkpoint_latest`, one row that each batch replaces, is exempt.
 */

export const SCHEMA_VERSION = '1';

/** Tables whose rows are never changed or removed. */
export const APPEND_ONLY_TABLES = ['meta', 'entries', 'tree_hashes', 'checkpoints', 'event_index'] as const;

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

CREATE TABLE IF NOT EXISTS event_index (
  idx INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  received INTEGER NOT NULL,
  source TEXT NOT NULL,
  action TEXT NOT NULL,
  actor_id TEXT,
  actor_email TEXT,
  target_type TEXT,
  target_id TEXT,
  target_name TEXT,
  outcome TEXT NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS event_index_time ON event_index (time);
CREATE INDEX IF NOT EXISTS event_index_actor_id ON event_index (actor_id);
CREATE INDEX IF NOT EXISTS event_index_actor_email ON event_index (actor_email);
CREATE INDEX IF NOT EXISTS event_index_action ON event_index (action);
CREATE INDEX IF NOT EXISTS event_index_source ON event_index (source);
CREATE INDEX IF NOT EXISTS event_index_target_id ON event_index (target_id);

CREATE VIRTUAL TABLE IF NOT EXISTS event_text USING fts5 (
  text,
  content = 'event_index',
  content_rowid = 'idx'
);
${APPEND_ONLY_TABLES.map(
  (t) => `
CREATE TRIGGER IF NOT EXISTS ${t}_no_update BEFORE UPDATE ON ${t}
BEGIN SELECT RAISE(ABORT, 'stele: ${t} is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ${t}_no_delete BEFORE DELETE ON ${t}
BEGIN SELECT RAISE(ABORT, 'stele: ${t} is append-only'); END;`,
).join('\n')}
`;
