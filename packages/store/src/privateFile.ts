import { closeSync, openSync } from 'node:fs';

/**
 * Creates `path` empty with mode 0600 when it does not exist yet, and leaves
 * an existing file alone: audit data is for its owner only, even where the
 * data directory's own mode (0700) is loosened. SQLite gives a database's
 * `-wal` and `-shm` files the database file's mode.
 */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
}
