/**
 * The narrow interface between the log service and its storage. A driver only
 * persists and reads; sequencing, hashing, signing and verification live above
 * it (log.ts), so every driver behaves the same. Drivers pass the shared
 * conformance suite (conformance.ts).
 */

/** One entry as stored: its position, id, leaf hash and canonical bytes. */
export interface StoredEntry {
  index: number;
  id: string;
  leafHash: Uint8Array;
  bytes: Uint8Array;
}

/** The query-index row of an entry, derived from its record (indexRow.ts). */
export interface IndexRow {
  /** Epoch milliseconds of the event's `time`. */
  time: number;
  /** Epoch milliseconds of the event's `received`. */
  received: number;
  source: string;
  action: string;
  actorId: string | null;
  actorEmail: string | null;
  targetType: string | null;
  targetId: string | null;
  targetName: string | null;
  outcome: string;
  /** The free text the full-text index covers. */
  text: string;
}

/** A complete subtree hash at a tile level (8, 16, 24, ...). */
export interface TreeHash {
  level: number;
  index: number;
  hash: Uint8Array;
}

/** A signed checkpoint as stored. */
export interface StoredCheckpoint {
  size: number;
  /** Epoch milliseconds when it was signed. */
  created: number;
  /** The whole signed note. */
  note: string;
}

/** What one group commit writes, all or nothing. */
export interface Batch {
  entries: ReadonlyArray<StoredEntry & { row: IndexRow }>;
  hashes: readonly TreeHash[];
  checkpoint: StoredCheckpoint;
  /** Also append the checkpoint to the history (at least one per second of activity). */
  historic: boolean;
  /**
   * The latest checkpoint's note the batch was sequenced on (null: the log had
   * none). When given, the driver MUST refuse the batch with
   * `ERR_SIZE_CONFLICT` unless it still is the latest: a batch sequenced on
   * another that never landed (pipelined commits) must not land either, even
   * when a second writer has made the size match.
   */
  parent?: string | null;
}

/** The persisted state a log service starts from. */
export interface DriverHead {
  /** One more than the highest stored index (0 when empty). */
  size: number;
  /** The latest checkpoint, written with the newest batch. */
  latest: StoredCheckpoint | undefined;
  /** The newest checkpoint of the history. */
  lastHistoric: StoredCheckpoint | undefined;
}

/** A disagreement between the query index and the entries, found by an {@link IndexChecker}. */
export interface IndexProblem {
  /** The first entry the index is wrong about, or null when it cannot be pinned to one. */
  index: number | null;
  message: string;
}

/**
 * Verification of a driver's query index: fed every entry's expected row in
 * index order, in chunks, it compares them with what the driver stored.
 */
export interface IndexChecker {
  /** Rows for entries [start, start + rows.length). */
  check(start: number, rows: readonly IndexRow[]): Promise<IndexProblem | undefined>;
  /** After the last chunk: whatever the index holds beyond `size` entries, and internal consistency. */
  finish(size: number): Promise<IndexProblem | undefined>;
}

/**
 * A guard of the storage against changing or removing committed rows (a
 * SQLite trigger, say) that is not as the driver creates it, found by
 * {@link LogDriver.guardProblems}.
 */
export interface GuardProblem {
  /** The table (or whatever the driver stores the log in) the guard is on. */
  table: string;
  /** The guard's name. */
  guard: string;
  /** `missing`; `altered`: there, but not what the driver creates; `unexpected`: one the driver never creates. */
  kind: 'missing' | 'altered' | 'unexpected';
}

/** Filters of a query; every one optional, all combined with AND. */
export interface QueryFilter {
  /** Matches the actor's id or email. */
  actor?: string;
  /** An exact action, or a prefix when it ends in `.*` or `*`. */
  action?: string;
  source?: string;
  /** Matches the target's id or name. */
  target?: string;
  /** `success`, `failure` or `unknown`. */
  outcome?: string;
  /** Epoch milliseconds, inclusive, on the event's `time`. */
  since?: number;
  /** Epoch milliseconds, exclusive, on the event's `time`. */
  until?: number;
  /** Free text: every word must match (full-text index). */
  text?: string;
  /** Only entries with an index below this (cursor pagination, newest first). */
  before?: number;
  /** At most this many results. */
  limit: number;
}

/**
 * Storage for one log. Implementations MUST make `commit` atomic and durable
 * (all of a batch or none of it, on stable storage before it resolves) and
 * MUST refuse to change or remove what has been committed, except the single
 * latest checkpoint, which each commit replaces.
 */
export interface LogDriver {
  /** A short name for messages and metrics (`sqlite`, `postgres`). */
  readonly kind: string;
  /** Reads a metadata value written at creation (origin, schema version). */
  getMeta(key: string): Promise<string | undefined>;
  /** Writes a metadata value once; MUST refuse to overwrite an existing one. */
  putMeta(key: string, value: string): Promise<void>;
  /** The persisted state. */
  head(): Promise<DriverHead>;
  /**
   * Persists one batch atomically and durably. MUST refuse with StoreError
   * `ERR_SIZE_CONFLICT`, writing nothing, when the batch's first index is not
   * the stored size (another writer got there first).
   */
  commit(batch: Batch): Promise<void>;
  /** Entries with index in [start, end), ascending; MUST throw if one is missing. */
  readEntries(start: number, end: number): Promise<StoredEntry[]>;
  /**
   * Hashes at a tile level (0 = leaf hashes, then 8, 16, ...) with index in
   * [start, end), ascending; MUST throw if one is missing.
   */
  readHashes(level: number, start: number, end: number): Promise<Uint8Array[]>;
  /** The stored entries among these ids. */
  findIds(ids: readonly string[]): Promise<Map<string, StoredEntry>>;
  /** The checkpoint history, ascending by size. */
  readCheckpoints(): Promise<StoredCheckpoint[]>;
  /** The entries at these indexes (any order); MUST throw if one is missing. */
  readMany(indexes: readonly number[]): Promise<StoredEntry[]>;
  /**
   * Candidate indexes for a query, newest (highest) first, in pages. A driver
   * may return more than match (the service filters each record exactly) but
   * MUST NOT leave out a match. `filter.limit` is a hint.
   */
  query(filter: QueryFilter): AsyncIterable<number[]>;
  /** Verification: the entries present with index in [start, end), ascending, gaps left as gaps. */
  scan(start: number, end: number): Promise<StoredEntry[]>;
  /** Verification: stored tile-level hashes with index in [start, end) at a level, as stored. */
  scanHashes(level: number, start: number, end: number): Promise<Map<number, Uint8Array>>;
  /** Verification: a checker of the query index. */
  indexChecker(): IndexChecker;
  /**
   * Verification: the guards the storage itself keeps against changing or
   * removing committed rows, compared with what the driver creates; empty
   * when all are intact. Only for a driver whose storage has such guards of
   * its own; writers MUST NOT restore a missing one quietly (that would hide
   * the change from the next verification).
   */
  guardProblems?(): Promise<GuardProblem[]>;
  close(): Promise<void>;
}
