/**
 * Every error Stele throws carries a stable `code` from a closed list; tests
 * and callers branch on the code, never on the message.
 */

/** The codes of the log core. */
export type LogErrorCode =
  | 'ERR_PROOF_INVALID' // a proof is malformed for its indices (wrong length, index out of range)
  | 'ERR_ROOT_MISMATCH' // a proof or recomputation reached a different root
  | 'ERR_NOTE_MALFORMED' // a signed note does not parse
  | 'ERR_NOTE_UNVERIFIED' // no known key signed the note, or a known key's signature is bad
  | 'ERR_KEY_MALFORMED' // a signer or verifier key does not parse
  | 'ERR_CHECKPOINT_MALFORMED' // a checkpoint body does not parse
  | 'ERR_TILE_MALFORMED' // a tile path or tile contents do not parse
  | 'ERR_BUNDLE_MALFORMED' // an entry bundle does not parse
  | 'ERR_EVIDENCE_MALFORMED' // an evidence bundle is not of the stele-evidence/1 shape (evidence.ts)
  | 'ERR_EVIDENCE_KEY' // an evidence bundle's verifier key is not the pinned one
  | 'ERR_EVIDENCE_CONSISTENCY' // an evidence bundle's checkpoints are not linked by valid consistency proofs
  | 'ERR_EVIDENCE_DUPLICATE_KEY' // an evidence bundle's JSON text repeats a key in an object (jsonDuplicates.ts)
  | 'ERR_EVIDENCE_EMPTY' // an evidence bundle holds no events: it proves nothing
  | 'ERR_ENTRY_TOO_LARGE' // an entry exceeds 65,535 bytes
  | 'ERR_EVENT_INVALID' // an event fails the record schema
  | 'ERR_TIME_MALFORMED' // a timestamp is not a strict RFC 3339 date-time with offset
  | 'ERR_JSON_NOT_CANONICALIZABLE'; // a value has no RFC 8785 form (NaN, Infinity, lone surrogate, ...)

/** Base class of the log core's errors. */
export class LogError extends Error {
  /** The stable code. */
  readonly code: LogErrorCode;

  constructor(code: LogErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A computed root differs from the expected one (RFC 6962 proof checking). */
export class RootMismatchError extends LogError {
  /** The root that was computed. */
  readonly computed: Uint8Array;
  /** The root that was expected. */
  readonly expected: Uint8Array;

  constructor(computed: Uint8Array, expected: Uint8Array, message = 'computed root does not match the expected root') {
    super('ERR_ROOT_MISMATCH', message);
    this.computed = computed;
    this.expected = expected;
  }
}
