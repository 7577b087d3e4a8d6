/**
 * How another thread can open its own connection to the store a driver is
 * open on. Internal: verification uses it to check the query index in a
 * worker while the calling thread recomputes the tree. A driver without a
 * source (a test double, an in-memory database, another kind) is simply
 * verified on one thread.
 */
import type { LogDriver } from './driver.js';

/**
 * Enough for a worker to open the same store again, in the same mode (a
 * check may need to write: FTS5 runs its integrity check as an INSERT).
 * Structured-cloneable.
 */
export type ReaderSource = { kind: 'sqlite'; path: string; readonly: boolean };

const sources = new WeakMap<LogDriver, ReaderSource>();

/** Records where a driver's store lives. */
export function setReaderSource(driver: LogDriver, source: ReaderSource): void {
  sources.set(driver, source);
}

/** Where a driver's store lives, if another thread can open it. */
export function readerSourceOf(driver: LogDriver): ReaderSource | undefined {
  return sources.get(driver);
}
