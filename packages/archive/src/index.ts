/**
 * @stele/archive: the WORM archive. Copies a log's C2SP tlog-tiles to S3 with
 * Object Lock (or a write-once directory) without ever overwriting or
 * deleting, resumes from what the archive holds, and verifies an archive on
 * its own with nothing but read access and the verifier key.
 *
 * @packageDocumentation
 */
export * from './errors.js';
export * from './location.js';
export * from './layout.js';
export * from './target.js';
export * from './retention.js';
export * from './source.js';
export * from './archiveLog.js';
export * from './task.js';
export * from './verifyArchive.js';
export * from './open.js';
export { openS3Target, createS3Client, quietSdkNodeWarning, type S3TargetOptions } from './s3Target.js';
export { openFileTarget, type FileTargetOptions } from './fileTarget.js';
export { openMemoryTarget, type MemoryTarget, type MemoryTargetOptions, type MemoryCall } from './memoryTarget.js';
