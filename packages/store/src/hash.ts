import { hash } from 'node:crypto';
import { createHasher, type Hasher, type Sha256 } from '@stele/log';

/** SHA-256 through Node's one-shot `crypto.hash`, the fastest path for small inputs. */
export const sha256: Sha256 = (data) => {
  const out = hash('sha256', data, 'buffer') as unknown as Buffer;
  // A plain Uint8Array view, so hashes compare equal to the log core's everywhere.
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
};

/** RFC 6962 hashing backed by Node's SHA-256. */
export const nodeHasher: Hasher = createHasher(sha256);
