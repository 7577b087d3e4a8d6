/**
 * RFC 6962 hashing for verification, on hashes written as lower-case hex.
 * Verification hashes every entry and every node of the tree; with Node's
 * one-shot `crypto.hash`, a Buffer per digest costs about as much as the
 * digest of a small input, and a hex string does not: SQLite hands the
 * stored hashes over as hex, and nodes are hashed from one scratch buffer.
 */
import { hash } from 'node:crypto';
import { toHex, utf8, type Hasher } from '@stele/log';
import { nodeHasher } from './hash.js';

/** Leaf and node hashes as hex. */
export interface HexHasher {
  /** The leaf hash of an entry given as its text (its bytes are the text's UTF-8). */
  leafOfText(text: string): string;
  /** The leaf hash of an entry's bytes. */
  leafOfBytes(bytes: Uint8Array): string;
  /** The leaf hash of bytes that are the leaf prefix (0x00) and then an entry's bytes. */
  leafOfPrefixed(prefixed: Uint8Array): string;
  /** The hash of an interior node from its children. */
  node(left: string, right: string): string;
  /**
   * The hash of an interior node from children that are leaf hashes (hex) or
   * results of `inner`, in the hasher's own form: Node's gives 32 bytes as a
   * Latin-1 string, which costs less to hash again than hex to decode.
   */
  inner(left: string, right: string): string;
  /** A hash from `inner` (or hex) as hex. */
  hexOf(hash: string): string;
}

/** Node's SHA-256, hex in and out. */
function nodeHexHasher(): HexHasher {
  const scratch = Buffer.alloc(65);
  scratch[0] = 0x01;
  // The same memory as a plain typed array: written by index, it costs less than a Buffer.
  const bytes = new Uint8Array(scratch.buffer, scratch.byteOffset, 65);
  return {
    leafOfText: (text) => hash('sha256', '\u0000' + text, 'hex'),
    leafOfBytes: (bytes) => toHex(nodeHasher.hashLeaf(bytes)),
    leafOfPrefixed: (prefixed) => hash('sha256', prefixed, 'hex'),
    inner(left, right) {
      // Children are SHA-256 results: 64 characters of hex (leaves), or 32 of Latin-1 (inner nodes).
      if (left.length === 64) scratch.write(left, 1, 'hex');
      else for (let k = 0; k < 32; k++) bytes[1 + k] = left.charCodeAt(k);
      if (right.length === 64) scratch.write(right, 33, 'hex');
      else for (let k = 0; k < 32; k++) bytes[33 + k] = right.charCodeAt(k);
      return hash('sha256', bytes, 'binary');
    },
    hexOf: (h) => (h.length === 32 ? Buffer.from(h, 'latin1').toString('hex') : h),
    node(left, right) {
      // Children that are not 32 bytes of hex (only a damaged store has them) hash as what they are.
      if (left.length !== 64 || right.length !== 64) return toHex(nodeHasher.hashChildren(fromHexLoose(left), fromHexLoose(right)));
      scratch.write(left, 1, 'hex');
      scratch.write(right, 33, 'hex');
      return hash('sha256', scratch, 'hex');
    },
  };
}

const fromHexLoose = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));

/** The hex form of any hasher (a caller's own, for example). */
export function hexHasherOf(hasher: Hasher | undefined): HexHasher {
  if (hasher === undefined || hasher === nodeHasher) return nodeHexHasher();
  const node = (left: string, right: string): string => toHex(hasher.hashChildren(fromHexLoose(left), fromHexLoose(right)));
  return {
    leafOfText: (text) => toHex(hasher.hashLeaf(utf8(text))),
    leafOfBytes: (bytes) => toHex(hasher.hashLeaf(bytes)),
    leafOfPrefixed: (prefixed) => toHex(hasher.hashLeaf(prefixed.subarray(1))),
    node,
    inner: node,
    hexOf: (h) => h,
  };
}

/**
 * The root of the range whose perfect-subtree roots are `nodes`, largest
 * (leftmost) first, folded right to left; the empty root for none.
 */
export function foldHex(hx: HexHasher, emptyRoot: string, nodes: readonly string[]): string {
  let acc = nodes[nodes.length - 1];
  if (acc === undefined) return emptyRoot;
  for (let i = nodes.length - 2; i >= 0; i--) acc = hx.node(nodes[i]!, acc);
  return acc;
}

/** What a {@link HexRange} tells of each node it completes (an object's method: one call target for every chunk). */
export interface NodeVisitor {
  visit(level: number, index: number, hash: string): void;
}

/**
 * An appender of subtree roots of one width (2^level leaves each, e.g. one
 * per chunk of entries): keeps the compact range of what it was given and
 * reports every node it completes, bottom up, with its level and index.
 * With `inner`, the nodes it makes are in the hasher's own form (see
 * {@link HexHasher.inner}; `hexOf` gives their hex), else hex.
 */
export class HexRange {
  readonly #hx: HexHasher;
  readonly #level: number;
  readonly #inner: boolean;
  #count = 0;
  /**
   * The roots, largest first, in the first `#size` slots: an array made full
   * of strings, so that its kind of elements never changes (which would
   * undo the optimized code of every caller, once per chunk). A compact
   * range has at most 64 roots.
   */
  readonly #stack: string[] = new Array<string>(64).fill('');
  #size = 0;

  constructor(hx: HexHasher, level: number, inner = false) {
    this.#hx = hx;
    this.#level = level;
    this.#inner = inner;
  }

  /** The roots of the range, largest first (a copy). */
  get nodes(): readonly string[] {
    return this.#stack.slice(0, this.#size);
  }

  /** Appends the next root; `visitor.visit` may throw to stop (the range is then unusable). */
  append(root: string, visitor: NodeVisitor): void {
    let index = this.#count;
    let level = this.#level;
    let hash = root;
    while (index % 2 === 1) {
      const left = this.#stack[--this.#size]!;
      hash = this.#inner ? this.#hx.inner(left, hash) : this.#hx.node(left, hash);
      index = (index - 1) / 2;
      level++;
      visitor.visit(level, index, hash);
    }
    this.#stack[this.#size++] = hash;
    this.#count++;
  }
}

/** How findings name a subtree: by its level and first leaf. */
export const subtreeName = (level: number, first: number): string => `the subtree of level ${level} starting at index ${first}`;

/** A stored tile-level hash missing, or differing from its entries' (which side is wrong is for the signed roots to tell). */
export interface StoredHashProblem {
  /** The subtree's first leaf. */
  first: number;
  code: 'ERR_TREE_HASH_MISSING' | 'ERR_TREE_HASH_MISMATCH';
  message: string;
  /** Of a mismatch: the node, with the entries' hash. */
  tile?: Required<TreeNode>;
}

/** What is wrong with the stored hash (hex) of node `index` at tile level `level`, whose entries give `own` (hex); undefined when nothing. */
export function storedHashProblem(level: number, index: number, stored: string | undefined, own: string): StoredHashProblem | undefined {
  if (stored === own) return undefined;
  const first = index * 2 ** level;
  if (stored === undefined) return { first, code: 'ERR_TREE_HASH_MISSING', message: `no stored hash for ${subtreeName(level, first)}` };
  return { first, code: 'ERR_TREE_HASH_MISMATCH', message: `the stored hash of ${subtreeName(level, first)} differs from its entries'`, tile: { level, index, hash: own } };
}

/** A node of the tree: its level, its index among the nodes of that level, and its hash (hex) when known. */
export interface TreeNode {
  level: number;
  index: number;
  hash?: string;
}

/** The stored side of the tree, as {@link storedRoot} reads it; undefined where nothing usable is stored. */
export interface StoredTree {
  /** The stored hash (hex) of a node at a tile level (a multiple of 8). */
  node(level: number, index: number): Promise<string | undefined>;
  /** The leaf hash (hex) of an entry, when the stored one is its bytes'. */
  leaf(index: number): Promise<string | undefined>;
}

/**
 * The root (hex) of the first `size` leaves as stored: each node of the
 * compact range from the stored hashes of the highest tile level at or below
 * it (at most 2^7 of them), or from leaves below level 8. Except `aside`,
 * a node at a tile level whose stored hash is not used: its `hash`, or
 * without one the hash of what is below it. Undefined when something needed
 * is missing. For the failure path only: it reads hashes one at a time.
 */
export async function storedRoot(hx: HexHasher, emptyRoot: string, size: number, tree: StoredTree, aside?: TreeNode): Promise<string | undefined> {
  const hashOf = async (level: number, index: number): Promise<string | undefined> => {
    const holds = aside !== undefined && level >= aside.level && Math.floor(aside.index / 2 ** (level - aside.level)) === index;
    if (holds && level === aside.level && aside.hash !== undefined) return aside.hash;
    if (!holds && level > 0 && level % 8 === 0) return tree.node(level, index);
    if (level === 0) return tree.leaf(index);
    const left = await hashOf(level - 1, 2 * index);
    const right = left === undefined ? undefined : await hashOf(level - 1, 2 * index + 1);
    return left === undefined || right === undefined ? undefined : hx.node(left, right);
  };
  const nodes: string[] = [];
  for (let start = 0; start < size; ) {
    let level = 0;
    while (2 ** (level + 1) <= size - start) level++;
    const hash = await hashOf(level, start / 2 ** level);
    if (hash === undefined) return undefined;
    nodes.push(hash);
    start += 2 ** level;
  }
  return foldHex(hx, emptyRoot, nodes);
}

/**
 * Which side a signed root takes where the tree of the entries and the
 * stored one may disagree, at `node` (a node at a tile level): 'entries'
 * when the stored tree with `node` from the entries (its `hash`, or the
 * leaves below it) reproduces the root, 'stored' when the stored tree
 * does; undefined when neither does. Either answer is sure: two different
 * sets of hashes do not fold into one root.
 */
export async function signedSide(
  hx: HexHasher,
  emptyRoot: string,
  tree: StoredTree,
  signed: { size: number; root: string },
  node: TreeNode,
): Promise<'entries' | 'stored' | undefined> {
  if ((await storedRoot(hx, emptyRoot, signed.size, tree, node)) === signed.root) return 'entries';
  if ((await storedRoot(hx, emptyRoot, signed.size, tree)) === signed.root) return 'stored';
  return undefined;
}
