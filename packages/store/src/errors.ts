/** The codes of the store and the log service. */
export type StoreErrorCode =
  | 'ERR_ID_CONFLICT' // an id already in the log (or earlier in the batch) with different content
  | 'ERR_ENTRY_TOO_LARGE' // a record's canonical bytes exceed 65,535
  | 'ERR_NOT_FOUND' // no entry, checkpoint or hash at that position
  | 'ERR_OUT_OF_RANGE' // an index or size beyond the log
  | 'ERR_STORE_EXISTS' // init over an existing log
  | 'ERR_STORE_MISSING' // no log in that directory
  | 'ERR_STORE_CORRUPT' // the stored state contradicts itself (run `stele verify`)
  | 'ERR_STORE_ACCESS' // the data directory or a file of it cannot be created, read or written (the system's reason follows)
  | 'ERR_READ_ONLY' // append on a log opened without a signer
  | 'ERR_OVERLOADED' // the append queue is full
  | 'ERR_SIZE_CONFLICT' // another writer appended first: the batch was sequenced against an old size
  | 'ERR_CLOSED'; // the log was closed

/** An error of the store, with a stable code. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
  }
}
