/**
 * @stele/log: Stele's log core. RFC 6962 hashing and proofs, C2SP tlog-tiles,
 * signed notes and checkpoints, RFC 8785 canonical JSON and the event record.
 * Zero runtime dependencies and no Node built-ins: it runs in the browser too.
 *
 * @packageDocumentation
 */
export * from './bytes.js';
export * from './errors.js';
export * from './hasher.js';
export * from './compactRange.js';
export * from './proof.js';
export * from './tile.js';
export * from './note.js';
export * from './checkpoint.js';
export * from './canonicalJson.js';
export * from './event.js';
export * from './tiledLog.js';
export * from './ocsf.js';
export * from './csv.js';
export * from './jsonDuplicates.js';
export * from './evidence.js';
