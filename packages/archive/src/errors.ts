/**
 * The archive's errors: each carries a stable `code` from a closed list;
 * callers and tests branch on the code, never on the message.
 */

/** The codes of the archive. */
export type ArchiveErrorCode =
  | 'ERR_ARCHIVE_URL' // the archive location does not parse (s3://bucket/prefix or file:///path)
  | 'ERR_ARCHIVE_NOT_WORM' // the bucket lacks versioning or Object Lock (override: allowUnlocked)
  | 'ERR_ARCHIVE_RETENTION' // no retention configured and no default retention on the bucket, or an invalid one
  | 'ERR_ARCHIVE_UNREACHABLE' // the store cannot be reached or refuses us (no bucket, no access, no directory)
  | 'ERR_ARCHIVE_WRITE' // a write failed (rejected checksum, denied PUT, full disk)
  | 'ERR_ARCHIVE_CONFLICT' // an archived object differs from what the log holds at that path
  | 'ERR_ARCHIVE_DIVERGED' // the archive's newest checkpoint is not one of this log's (another log, or a rolled-back one)
  | 'ERR_ARCHIVE_EMPTY' // verification: the archive holds no checkpoint
  | 'ERR_ARCHIVE_CORRUPT' // verification: an object contradicts the verified tree (a checkpoint named for another size, ...)
  | 'ERR_ARCHIVE_UNSUPPORTED'; // the target cannot do what was asked (a well-known checkpoint on a WORM directory)

/** An error of the archive, with a stable code. */
export class ArchiveError extends Error {
  /** The stable code. */
  readonly code: ArchiveErrorCode;

  constructor(code: ArchiveErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ArchiveError';
    this.code = code;
  }
}

/**
 * True for the codes that mean the archive and the log disagree: evidence of
 * tampering or of a rolled-back log, a failed check rather than bad input.
 */
export function isTamperEvidence(code: string): boolean {
  return code === 'ERR_ARCHIVE_CONFLICT' || code === 'ERR_ARCHIVE_DIVERGED' || code === 'ERR_ARCHIVE_CORRUPT';
}
