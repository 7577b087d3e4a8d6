/**
 * @stele/store: the log service over a narrow driver interface, the embedded
 * SQLite driver, data directories and full verification.
 *
 * @packageDocumentation
 */
export * from './driver.js';
export * from './errors.js';
export * from './hash.js';
export * from './indexRow.js';
export * from './log.js';
export * from './tree.js';
export * from './verify.js';
export * from './dataDir.js';
export * from './signer.js';
export * from './filter.js';
export * from './text.js';
export { openSqliteDriver, type SqliteDriverOptions } from './sqlite/driver.js';
export { APPEND_ONLY_TABLES } from './sqlite/schema.js';
