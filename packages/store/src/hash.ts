import { hash } from 'node:crypto';
import { createHasher, type Hasher, type Sha256 } from '@stele/log';

/** Digests are copied into chunks of this size: each result is a view of its own 32 bytes. */
const CHUNK = 4096;
let chunk = new Uint8Array(CHUNK);
let used = CHUNK;

/**
 * SHA-256 through Node's one-shot `crypto.hash`, the fastest path for small
 * inputs, asked for a Latin-1 (`binary`) string, one character per byte:
 * making that string and copying it out costs less than the Buffer that
 * `'buffer'` output allocates for each digest. The result is a plain
 * Uint8Array (so that hashes compare equal to the log core's everywhere),
 * viewing a chunk shared with other digests: copy it, never transfer its
 * `buffer`.
 */
export const sha256: Sha256 = (data) => {
  const digest = hash('sha256', data, 'binary');
  // A detached chunk (someone transferred a digest's buffer) has length 0 and is replaced too.
  if (used + 32 > chunk.length) {
    chunk = new Uint8Array(CHUNK);
    used = 0;
  }
  const out = chunk;
  const at = used;
  for (let i = 0; i < 32; i++) out[at + i] = digest.charCodeAt(i);
  used = at + 32;
  return out.subarray(at, at + 32);
};

/** RFC 6962 hashing backed by Node's SHA-256. */
export const nodeHasher: Hasher = createHasher(sha256);
