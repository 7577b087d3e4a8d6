/**
 * RFC 6962 inclusion and consistency proofs (section 2.1.1 and 2.1.2).
 *
 * Computing is kept apart from checking: a plan names the stored nodes a proof
 * needs and folds their hashes into the proof (no I/O here); `rootFrom...`
 * derives roots from a proof; only `verify...` compares and throws.
 *
 * Every proof element is the Merkle tree hash of a leaf range [start, end)
 * that starts at a multiple of 2^k and spans at most 2^k leaves: a perfect
 * subtree, or one cut off by the tree's right edge, which is then folded from
 * the perfect subtrees that cover it.
 */
import { equalBytes } from './bytes.js';
import { foldNodes, subtreeNodes, type NodeId } from './compactRange.js';
import { LogError, RootMismatchError } from './errors.js';
import type { Hasher } from './hasher.js';

/** The stored nodes a proof needs, and how to turn their hashes into the proof. */
export interface ProofPlan {
  /** The complete (perfect-subtree) nodes to fetch, in the order `fold` takes them. */
  readonly ids: readonly NodeId[];
  /**
   * Turns the hashes of `ids` (same order) into the proof, bottom-up.
   *
   * @throws LogError `ERR_PROOF_INVALID` when the count or a hash length is wrong.
   */
  fold(hasher: Hasher, hashes: readonly Uint8Array[]): Uint8Array[];
}

/** A proof element: the leaves it hashes and which side of the path it is on. */
interface Sibling {
  readonly start: number;
  readonly end: number;
  readonly left: boolean;
}

const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

function invalid(message: string): LogError {
  return new LogError('ERR_PROOF_INVALID', message);
}

/**
 * The siblings on the path from node (level, index) up to the root of a tree
 * of `size` leaves, bottom-up. A right sibling that starts past the last leaf
 * does not exist (RFC 6962 carries the node up unchanged), and one that
 * straddles it is cut at `size`.
 */
function siblings(level: number, index: number, size: number): Sibling[] {
  const out: Sibling[] = [];
  let width = 2 ** level;
  while (index !== 0 || width < size) {
    const left = index % 2 === 1;
    const start = (left ? index - 1 : index + 1) * width;
    if (start < size) out.push({ start, end: Math.min(start + width, size), left });
    index = Math.floor(index / 2);
    width *= 2;
  }
  return out;
}

function planFor(ranges: readonly { start: number; end: number }[]): ProofPlan {
  const groups = ranges.map((r) => subtreeNodes(r.start, r.end));
  const ids = groups.flat();
  return {
    ids,
    fold(hasher, hashes) {
      if (hashes.length !== ids.length) throw invalid(`the plan needs ${ids.length} hashes, got ${hashes.length}`);
      checkSizes(hasher, hashes);
      const proof: Uint8Array[] = [];
      let at = 0;
      for (const group of groups) {
        proof.push(foldNodes(hasher, hashes.slice(at, at + group.length)));
        at += group.length;
      }
      return proof;
    },
  };
}

function checkSizes(hasher: Hasher, hashes: readonly Uint8Array[]): void {
  if (hashes.some((h) => h.length !== hasher.size)) throw invalid(`proof hashes must be ${hasher.size} bytes`);
}

/** The last (smallest) perfect subtree of [0, size), size > 0. */
function lastNode(size: number): NodeId {
  return subtreeNodes(0, size).at(-1)!;
}

/**
 * Plans the inclusion proof of leaf `index` in a tree of `size` leaves.
 *
 * @throws LogError `ERR_PROOF_INVALID` unless 0 <= index < size (safe integers).
 */
export function planInclusion(index: number, size: number): ProofPlan {
  if (!isCount(index) || !isCount(size) || index >= size) throw invalid(`no leaf ${index} in a tree of size ${size}`);
  return planFor(siblings(0, index, size));
}

/**
 * Plans the consistency proof from a tree of `size1` leaves to one of `size2`.
 * The proof is empty when the sizes are equal or `size1` is 0.
 *
 * @throws LogError `ERR_PROOF_INVALID` unless 0 <= size1 <= size2 (safe integers).
 */
export function planConsistency(size1: number, size2: number): ProofPlan {
  if (!isCount(size1) || !isCount(size2) || size1 > size2) throw invalid(`no consistency from size ${size1} to ${size2}`);
  if (size1 === 0 || size1 === size2) return planFor([]);
  // The old tree's last perfect subtree is on the path of leaf size1-1; the
  // proof is that node's inclusion path in the new tree, preceded by the node
  // itself unless it is the whole old tree (which the verifier already holds).
  const node = lastNode(size1);
  const path = siblings(node.level, node.index, size2);
  if (node.index === 0) return planFor(path);
  return planFor([{ start: size1 - 2 ** node.level, end: size1 }, ...path]);
}

/**
 * Computes the root that an inclusion proof of `leafHash` at `index` leads to
 * in a tree of `size` leaves. It does not check the root; `verifyInclusion` does.
 * The proof is hostile input: its shape is checked before any hashing.
 *
 * @throws LogError `ERR_PROOF_INVALID` when the indices, the proof length or a hash length are wrong.
 */
export function rootFromInclusionProof(
  hasher: Hasher,
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  if (!isCount(index) || !isCount(size) || index >= size) throw invalid(`no leaf ${index} in a tree of size ${size}`);
  if (leafHash.length !== hasher.size) throw invalid(`the leaf hash must be ${hasher.size} bytes`);
  const path = siblings(0, index, size);
  if (proof.length !== path.length) throw invalid(`the proof must have ${path.length} hashes, got ${proof.length}`);
  checkSizes(hasher, proof);
  let hash: Uint8Array = leafHash.slice();
  path.forEach((sibling, i) => {
    hash = sibling.left ? hasher.hashChildren(proof[i]!, hash) : hasher.hashChildren(hash, proof[i]!);
  });
  return hash;
}

/**
 * Checks that `proof` proves leaf `leafHash` at `index` in the tree of `size`
 * leaves with root `root`.
 *
 * @throws LogError `ERR_PROOF_INVALID` when the proof is malformed, `RootMismatchError` when it leads elsewhere.
 */
export function verifyInclusion(
  hasher: Hasher,
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(hasher, index, size, leafHash, proof);
  if (!equalBytes(computed, root)) throw new RootMismatchError(computed, root);
}

/**
 * Computes both roots a consistency proof leads to: the old tree's (of
 * `size1` leaves) and the new tree's (of `size2`). When `size1` is a power of
 * two the old root is an input of the proof (`root1`) and comes back as is.
 * It checks nothing about the roots; `verifyConsistency` does.
 *
 * A proof from the empty tree is rejected: every tree extends it, so it would
 * prove nothing, and accepting one would let any `root2` through.
 *
 * @throws LogError `ERR_PROOF_INVALID` unless 0 < size1 <= size2 and the proof has the right shape.
 */
export function rootsFromConsistencyProof(
  hasher: Hasher,
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
): { root1: Uint8Array; root2: Uint8Array } {
  if (!isCount(size1) || !isCount(size2) || size1 > size2) throw invalid(`no consistency from size ${size1} to ${size2}`);
  if (size1 === 0) throw invalid('a consistency proof from the empty tree proves nothing');
  if (size1 === size2) {
    if (proof.length !== 0) throw invalid('the proof between equal sizes must be empty');
    return { root1: root1.slice(), root2: root1.slice() };
  }
  const node = lastNode(size1);
  const path = siblings(node.level, node.index, size2);
  const seeded = node.index === 0; // size1 is a power of two: root1 is the node
  const expected = path.length + (seeded ? 0 : 1);
  if (proof.length !== expected) throw invalid(`the proof must have ${expected} hashes, got ${proof.length}`);
  checkSizes(hasher, proof);
  const rest = seeded ? proof : proof.slice(1);
  let old: Uint8Array = seeded ? root1.slice() : proof[0]!.slice();
  let now = old;
  path.forEach((sibling, i) => {
    const h = rest[i]!;
    // Left siblings lie inside the old tree; right ones start at or past size1.
    if (sibling.left) old = hasher.hashChildren(h, old);
    now = sibling.left ? hasher.hashChildren(h, now) : hasher.hashChildren(now, h);
  });
  return { root1: old, root2: now };
}

/**
 * Checks that `proof` proves the tree of `size2` leaves with root `root2`
 * extends the tree of `size1` leaves with root `root1`.
 *
 * @throws LogError `ERR_PROOF_INVALID` when the sizes or the proof are malformed
 *   (including size1 = 0), `RootMismatchError` when either root differs.
 */
export function verifyConsistency(
  hasher: Hasher,
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  const computed = rootsFromConsistencyProof(hasher, size1, size2, proof, root1);
  if (!equalBytes(computed.root1, root1)) {
    throw new RootMismatchError(computed.root1, root1, 'the proof does not lead to the old root');
  }
  if (!equalBytes(computed.root2, root2)) {
    throw new RootMismatchError(computed.root2, root2, 'the proof does not lead to the new root');
  }
}
