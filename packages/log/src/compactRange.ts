/**
 * Compact ranges: a range of leaves [start, end) summarised by the roots of the
 * perfect subtrees that cover it. The range [0, size) is the appender: it
 * holds one hash per set bit of `size`, yields the RFC 6962 root, and reports
 * every complete node it creates so the store can keep the tile-level ones.
 */
import { LogError } from './errors.js';
import type { Hasher } from './hasher.js';

/** Receives each complete node that an append creates. It must not modify `hash`. */
export type NodeVisitor = (level: number, index: number, hash: Uint8Array) => void;

/** A perfect subtree: the leaves [index * 2^level, (index + 1) * 2^level). */
export interface NodeId {
  level: number;
  index: number;
}

const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/**
 * The perfect subtrees that exactly cover the leaves [start, end), left to
 * right: each is the largest subtree aligned at the current position that
 * still fits. For [0, size) that is one subtree per set bit of `size`, largest
 * first.
 *
 * @throws LogError `ERR_PROOF_INVALID` unless 0 <= start <= end are safe integers.
 */
export function subtreeNodes(start: number, end: number): NodeId[] {
  if (!isCount(start) || !isCount(end) || start > end) {
    throw new LogError('ERR_PROOF_INVALID', `invalid leaf range [${start}, ${end})`);
  }
  const ids: NodeId[] = [];
  // Arithmetic instead of bit operators: indices go past 2^32.
  while (start < end) {
    let level = 0;
    let width = 1;
    while (start % (width * 2) === 0 && start + width * 2 <= end) {
      width *= 2;
      level++;
    }
    ids.push({ level, index: start / width });
    start += width;
  }
  return ids;
}

/**
 * The hash of a compact range from its subtree roots in `subtreeNodes` order
 * (sizes decreasing left to right), folded right to left. For [0, size) this is
 * the RFC 6962 root; for a range that starts at a multiple of 2^k and spans at
 * most 2^k leaves it is that range's Merkle tree hash. The empty list folds to
 * the empty root.
 */
export function foldNodes(hasher: Hasher, hashes: readonly Uint8Array[]): Uint8Array {
  const last = hashes[hashes.length - 1];
  if (last === undefined) return hasher.emptyRoot();
  let acc: Uint8Array = last.slice();
  for (let i = hashes.length - 2; i >= 0; i--) acc = hasher.hashChildren(hashes[i]!, acc);
  return acc;
}

/**
 * The RFC 6962 Merkle tree hash of consecutive nodes of one level, taken as
 * the leaves of a tree (for example the 128 stored level-8 hashes below a
 * level-15 node, or the hashes of a tile). The empty list hashes to the empty
 * root.
 */
export function hashNodes(hasher: Hasher, hashes: readonly Uint8Array[]): Uint8Array {
  const range = CompactRange.empty(hasher);
  for (const hash of hashes) range.append(hash);
  return range.root();
}

/** The roots of the perfect subtrees covering [0, size): the tree's appender. */
export class CompactRange {
  readonly #hasher: Hasher;
  #size: number;
  // Largest (leftmost) first; never mutated once stored, so clones may share them.
  readonly #hashes: Uint8Array[];

  private constructor(hasher: Hasher, size: number, hashes: Uint8Array[]) {
    this.#hasher = hasher;
    this.#size = size;
    this.#hashes = hashes;
  }

  /** The range of the empty tree. */
  static empty(hasher: Hasher): CompactRange {
    return new CompactRange(hasher, 0, []);
  }

  /**
   * The perfect subtree roots that make up [0, size), largest (leftmost)
   * first: one per set bit of `size`.
   *
   * @throws LogError `ERR_PROOF_INVALID` unless `size` is a non-negative safe integer.
   */
  static nodesFor(size: number): NodeId[] {
    return subtreeNodes(0, size);
  }

  /**
   * Rebuilds the range of a tree of `size` leaves from the hashes of
   * `nodesFor(size)`, in that order. The hashes are copied.
   *
   * @throws LogError `ERR_PROOF_INVALID` when the count or a hash length is wrong.
   */
  static fromNodes(hasher: Hasher, size: number, hashes: readonly Uint8Array[]): CompactRange {
    const expected = subtreeNodes(0, size).length;
    if (hashes.length !== expected) {
      throw new LogError('ERR_PROOF_INVALID', `a range of size ${size} has ${expected} nodes, got ${hashes.length}`);
    }
    if (hashes.some((h) => h.length !== hasher.size)) {
      throw new LogError('ERR_PROOF_INVALID', `node hashes must be ${hasher.size} bytes`);
    }
    return new CompactRange(hasher, size, hashes.map((h) => h.slice()));
  }

  /** The number of leaves in the range. */
  get size(): number {
    return this.#size;
  }

  /** Copies of the subtree roots, in `nodesFor(size)` order. */
  nodes(): Uint8Array[] {
    return this.#hashes.map((h) => h.slice());
  }

  /**
   * Appends one leaf hash. Calls `visit(0, index, leafHash)` and then, bottom
   * up, `visit` for every complete node the append creates.
   *
   * @throws TypeError when `leafHash` has the wrong length or the tree is full.
   */
  append(leafHash: Uint8Array, visit?: NodeVisitor): void {
    const hasher = this.#hasher;
    if (leafHash.length !== hasher.size) throw new TypeError(`leaf hash must be ${hasher.size} bytes`);
    if (this.#size >= Number.MAX_SAFE_INTEGER) throw new TypeError('the tree is full');
    let index = this.#size;
    let level = 0;
    let hash = leafHash;
    visit?.(0, index, hash);
    // Each trailing 1 bit of the old size is a complete left sibling waiting on
    // the stack: merge with it and carry upwards, like binary addition.
    while (index % 2 === 1) {
      hash = hasher.hashChildren(this.#hashes.pop()!, hash);
      index = (index - 1) / 2;
      level++;
      visit?.(level, index, hash);
    }
    // Copy only the caller's array; merged hashes are already our own.
    this.#hashes.push(level === 0 ? hash.slice() : hash);
    this.#size++;
  }

  /** The RFC 6962 root (MTH) of [0, size); the empty root at size 0. */
  root(): Uint8Array {
    return foldNodes(this.#hasher, this.#hashes);
  }

  /** An independent copy: appends to either do not affect the other. */
  clone(): CompactRange {
    return new CompactRange(this.#hasher, this.#size, [...this.#hashes]);
  }
}
