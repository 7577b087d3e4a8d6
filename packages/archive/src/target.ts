/**
 * The narrow interfaces between the archive's copy algorithm and the
 * write-once stores it copies to. The copy algorithm (archiveLog.ts) and the
 * verifier (verifyArchive.ts) are the same for every store; a target only
 * reads, lists and creates objects.
 */

/** Object Lock retention: how and until when an object is protected. */
export interface Lock {
  /** COMPLIANCE: nobody, root included, can delete or shorten it; GOVERNANCE: only with the bypass permission. */
  mode: LockMode;
  /** The object may not be deleted or overwritten before this instant. */
  retainUntil: Date;
}

/** Object Lock modes. */
export type LockMode = 'COMPLIANCE' | 'GOVERNANCE';

/** What a store guarantees, as far as Stele can ask it. */
export interface WormStatus {
  /** Versioning is on (S3 refuses Object Lock without it). */
  versioning: boolean;
  /** Object Lock is on. */
  objectLock: boolean;
  /** The store's own default retention, when it has one. */
  defaultRetention?: { mode: LockMode; days: number };
  /** True when the store cannot be asked (a mounted WORM volume): the operator vouches for it. */
  unverifiable?: boolean;
}

/** Read access to an archive: all an auditor needs. */
export interface ArchiveReader {
  /** The archive's location, for messages (`s3://bucket/prefix/`, `file:///path`). */
  readonly url: string;
  /**
   * Every path under the archive's prefix, relative to it, in any order.
   * Listing results are hostile input: callers parse each path strictly.
   */
  list(): AsyncIterable<string>;
  /** Reads one object; undefined when there is none at that path. */
  read(path: string): Promise<Uint8Array | undefined>;
  /** Releases connections and handles. */
  close(): Promise<void>;
}

/**
 * A write-once store. Implementations MUST never overwrite or delete: `create`
 * MUST NOT replace an existing object, and no method removes one. They SHOULD
 * make `create` atomic (an object is either absent or complete), SHOULD send
 * an integrity checksum the store checks, and MUST apply `lock` to every
 * object they create when one is given.
 */
export interface ArchiveTarget extends ArchiveReader {
  /** What the store guarantees (versioning, Object Lock, default retention). */
  inspect(): Promise<WormStatus>;
  /**
   * Creates the object at `path` unless one exists. Resolves `created`, or
   * `exists` when an object with exactly these bytes was already there.
   *
   * @throws ArchiveError `ERR_ARCHIVE_CONFLICT` when an object with other bytes is there
   * @throws ArchiveError `ERR_ARCHIVE_WRITE` when the store refuses the write
   */
  create(path: string, bytes: Uint8Array, lock: Lock | undefined): Promise<'created' | 'exists'>;
  /**
   * Publishes `bytes` as the current content of a well-known path (the newest
   * checkpoint). Only stores that keep every earlier version (S3 with
   * versioning) implement it: the publication adds a version, it never
   * replaces one. Undefined on stores that cannot (a WORM directory).
   */
  publish?(path: string, bytes: Uint8Array, lock: Lock | undefined): Promise<void>;
}
