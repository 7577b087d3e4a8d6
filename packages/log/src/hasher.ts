/**
 * RFC 6962 (section 2.1) Merkle tree hashing over a caller-supplied SHA-256.
 *
 * The core ships no SHA-256 of its own so that it stays dependency-free in
 * both runtimes: Node passes `crypto.hash`, a browser passes a synchronous
 * implementation from a well-kept library.
 */

/**
 * A synchronous SHA-256: returns the 32-byte digest of `data` in a new array
 * that it does not reuse. It must not keep a reference to `data` after
 * returning (the hasher reuses its input buffer).
 */
export type Sha256 = (data: Uint8Array) => Uint8Array;

/** RFC 6962 hashing: leaves, interior nodes and the empty tree. */
export interface Hasher {
  /** The size of every hash in bytes. */
  readonly size: 32;
  /** The root of the empty tree: `SHA-256("")`. Returns a fresh copy. */
  emptyRoot(): Uint8Array;
  /** The leaf hash `SHA-256(0x00 ‖ entry)`. */
  hashLeaf(entry: Uint8Array): Uint8Array;
  /** The interior node hash `SHA-256(0x01 ‖ left ‖ right)`. */
  hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array;
}

const HASH_SIZE = 32;
const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;
/** Leaves longer than this (no entry is) are hashed from a fresh buffer rather than a scratch one kept around. */
const MAX_SCRATCH = 65_535;

/**
 * Creates an RFC 6962 hasher over `sha256`.
 *
 * @param sha256 - a synchronous SHA-256, for example
 *   `(d) => new Uint8Array(crypto.hash('sha256', d, 'buffer'))` in Node.
 * @throws TypeError when `sha256` does not return 32 bytes.
 */
export function createHasher(sha256: Sha256): Hasher {
  const empty = Uint8Array.from(sha256(new Uint8Array(0)));
  if (empty.length !== HASH_SIZE) throw new TypeError('sha256 must return 32 bytes');

  // One scratch buffer for the common case of two 32-byte children: node
  // hashing runs once per append on the ingest path, so it should not allocate
  // its input. Safe because Sha256 is synchronous and keeps no reference.
  const node = new Uint8Array(1 + 2 * HASH_SIZE);
  node[0] = NODE_PREFIX;
  // Likewise for leaves up to the entry cap (65,535 bytes), grown as needed:
  // appends and verification hash every entry.
  let leaf = new Uint8Array(1 + 1024);

  return {
    size: HASH_SIZE,
    emptyRoot: () => empty.slice(),
    hashLeaf(entry) {
      if (entry.length >= leaf.length) {
        if (entry.length > MAX_SCRATCH) {
          const input = new Uint8Array(1 + entry.length);
          input[0] = LEAF_PREFIX;
          input.set(entry, 1);
          return sha256(input);
        }
        leaf = new Uint8Array(Math.min(MAX_SCRATCH + 1, Math.max(1 + entry.length, 2 * leaf.length)));
      }
      leaf[0] = LEAF_PREFIX;
      leaf.set(entry, 1);
      return sha256(leaf.subarray(0, 1 + entry.length));
    },
    hashChildren(left, right) {
      if (left.length === HASH_SIZE && right.length === HASH_SIZE) {
        node.set(left, 1);
        node.set(right, 1 + HASH_SIZE);
        return sha256(node);
      }
      // Odd-sized input only reaches here from hostile proofs; hash it as
      // RFC 6962 would rather than guess, and let the root comparison fail.
      const input = new Uint8Array(1 + left.length + right.length);
      input[0] = NODE_PREFIX;
      input.set(left, 1);
      input.set(right, 1 + left.length);
      return sha256(input);
    },
  };
}
