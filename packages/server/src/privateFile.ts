import { closeSync, openSync } from 'node:fs';

/**
 * Creates `path` empty with mode 0600 when it does not exist yet, and leaves
 * an existing file alone: the collector's own databases in a data directory
 * (tokens, devices) are for its owner only, as the log's is (initStore).
 * SQLite gives a database's `-wal` and `-shm` files the database file's mode.
 */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
}
