/**
 * One chunk of verification: the entries [start, end) of a chunk aligned to
 * its width (a power of two), checked entry by entry as verify.ts describes,
 * with the chunk's own part of the tree and its part of the query index.
 * Chunks are independent, so the calling thread and a worker (verifyWorker.ts)
 * each take chunks; verify.ts joins the results in index order: it appends
 * the chunks' roots, checks the signed roots and the tile levels above a
 * chunk, and decides which finding comes first.
 */
import type { IndexProblem, IndexRow } from './driver.js';
import type { UnitProblem } from './sqlite/indexChecker.js';
import type { VerifyCode } from './verify.js';
import { leafInput, scanEntry, type EntryScan } from './entryScan.js';
import { EntryFinding, isScan, readParsedEntry, readScannedEntry } from './verifyEntry.js';
import { HexRange, storedHashProblem, type HexHasher, type StoredHashProblem, type StoredTree, type TreeNode } from './verifyTree.js';

/**
 * An entry as read for verification, in one string (reading one column of
 * a row costs half of reading four): `<n> <id><leaf> <text>`, where n is the
 * id's length in UTF-8 bytes, leaf the stored leaf hash in lower-case hex and
 * text the entry's bytes read as UTF-8; null when the source has no such
 * string for it (then the exact read decides). See {@link unpack}.
 */
export type PackedEntry = string | null;

/** An entry as stored, for the exact checks of one that reads back differently as text. */
export interface ExactRow {
  id: unknown;
  leafHex: string;
  bytes: Uint8Array;
}

/** What verification reads; see verifySource.ts. */
export interface ChunkSource {
  /** The entries present in [start, end), ascending, gaps left as gaps. */
  entries(start: number, end: number): Promise<PackedEntry[]> | PackedEntry[];
  /** The first index in [start, end) without an entry, or `end`. */
  missing(start: number, end: number): Promise<number> | number;
  /** One entry exactly as stored, or undefined when absent. */
  exact(index: number): Promise<ExactRow | undefined> | ExactRow | undefined;
  /** Stored tile-level hashes (hex) of the nodes in [from, to) at a level. */
  hashes(level: number, from: number, to: number): Promise<Map<number, string>> | Map<number, string>;
  /** A check of the query index's units in [start, end), fed the entries' rows in order. */
  units(start: number, end: number): ChunkIndexCheck;
  /** After the last chunk: what the index holds beyond `size` entries (its units checked up to `covered`). */
  tail(covered: number, size: number): Promise<IndexProblem | undefined> | IndexProblem | undefined;
  /** The query index's own consistency (FTS5's check of its inverted index). */
  integrity(): Promise<IndexProblem | undefined> | IndexProblem | undefined;
  close(): void;
}

/** The query index of one chunk, checked as its rows are derived. */
export interface ChunkIndexCheck {
  /** The next entry's row; the first problem, once a check with the rows so far finds it. */
  add(row: IndexRow): UnitProblem | undefined;
  /** The next entry as scanned, the same as `add(rowOfScan(scan))`. */
  scanned(scan: EntryScan): UnitProblem | undefined;
  /** After the last row: the first problem, and where the check got to (the first entry of a unit not checked). */
  end(): Promise<{ problem?: UnitProblem; covered: number }> | { problem?: UnitProblem; covered: number };
}

/** A chunk to check. */
export interface ChunkWork {
  start: number;
  end: number;
  /** log2 of the chunk width: tile levels up to it are checked here, above it by the caller. */
  level: number;
  /** Sizes in (start, end] at which the caller needs the chunk's compact range. */
  sizes: readonly number[];
}

/** The first finding in a chunk, in walk order. */
export interface ChunkFinding {
  index: number | null;
  code: VerifyCode;
  message: string;
  /** The entry being walked: before its row is derived (entry), after its leaf is appended (tree). */
  at: number;
  phase: 'entry' | 'tree';
  /** Of a stored tile-level hash that differs from the entries': the node, with the entries' hash. */
  tile?: Required<TreeNode>;
}

/** What a chunk found; structured-cloneable. */
export interface ChunkResult {
  start: number;
  end: number;
  finding?: ChunkFinding;
  /** The first problem of the query index among the units whose entries all had rows. */
  index?: UnitProblem;
  /** Where the index check stopped (the first entry of the first unit it did not check). */
  covered: number;
  /** The chunk's compact range (hex, largest first) at each size asked for that the walk reached. */
  ranges: [size: number, nodes: string[]][];
  /** The chunk's root, when the walk went through the whole chunk. */
  root?: string;
}

/** The stored tree of a source, for verifyTree.ts's signedSide: a leaf hash only where its entry's bytes hash to it. */
export function storedTreeOf(source: ChunkSource, hx: HexHasher): StoredTree {
  return {
    node: async (level, index) => (await source.hashes(level, index, index + 1)).get(index),
    async leaf(index) {
      const row = await source.exact(index);
      const leaf = row && hx.leafOfBytes(row.bytes);
      return leaf === row?.leafHex ? leaf : undefined;
    },
  };
}

/** The work of chunk number `chunk` of a log of `size` entries, chunks of 2^level. */
export function workOf(chunk: number, level: number, size: number, sizes: readonly number[]): ChunkWork {
  const start = chunk * 2 ** level;
  const end = Math.min(size, start + 2 ** level);
  // `sizes` ascending: the slice of it in (start, end].
  let lo = 0;
  let hi = sizes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sizes[mid]! <= start) lo = mid + 1;
    else hi = mid;
  }
  let to = lo;
  while (to < sizes.length && sizes[to]! <= end) to++;
  return { start, end, level, sizes: sizes.slice(lo, to) };
}

/** Entries read at a time. */
const SLICE = 512;

/** Checks one chunk. `hx` hashes; never throws for anything an entry holds. */
export async function checkChunk(source: ChunkSource, hx: HexHasher, work: ChunkWork): Promise<ChunkResult> {
  const { start, end, level } = work;
  const tiles = new Map<number, Map<number, string>>();
  for (let l = 8; l <= level; l += 8) tiles.set(l, await source.hashes(l, Math.floor(start / 2 ** l), Math.ceil(end / 2 ** l)));
  const check = source.units(start, end);
  const walk = new ChunkWalk(work, hx, check, tiles);
  // Read in slices: a whole chunk alive at once costs more in garbage collection than the reads.
  let entries: PackedEntry[] = [];
  let r = 0;
  /** Entries of the slice are present below this index. */
  let present = start;
  for (let index = start; index < end; index++) {
    if (r === entries.length) {
      const to = Math.min(end, index + SLICE);
      entries = await source.entries(index, to);
      r = 0;
      // A slice that comes short has a gap: the entries before it are the first ones read.
      present = entries.length === to - index ? to : await source.missing(index, to);
    }
    if (index >= present) {
      walk.exact(index, undefined);
      break;
    }
    if (walk.packed(index, entries[r++]!)) continue;
    // Reads back otherwise, or a wrong leaf hash: decide on the bytes.
    if (walk.stopped || !walk.exact(index, await source.exact(index))) break;
  }
  const checked = await check.end();
  const { finding, range } = walk;
  const problem = walk.problem ?? checked.problem;
  return {
    start,
    end,
    ...(finding ? { finding } : {}),
    ...(problem ? { index: problem } : {}),
    covered: checked.covered,
    ranges: [...walk.ranges],
    ...(!finding && !problem && end - start === 2 ** level ? { root: hx.hexOf(range.nodes[0]!) } : {}),
  };
}

/**
 * The walk through a chunk's entries, one at a time, as verify.ts describes.
 * Each entry is a call of a small method: they are optimized after a few
 * hundred entries, where the loop of a chunk (one call) would run slowly for
 * many chunks first.
 */
class ChunkWalk {
  finding: ChunkFinding | undefined;
  problem: UnitProblem | undefined;
  /** The chunk's compact range at each size the joins need (a map: an array would change its kind of elements at the first). */
  readonly ranges = new Map<number, string[]>();
  /** The tree of the chunk's leaves, its nodes in the hasher's own form (hex only where compared or handed back). */
  readonly range: HexRange;
  readonly #work: ChunkWork;
  readonly #hx: HexHasher;
  readonly #check: ChunkIndexCheck;
  readonly #tiles: Map<number, Map<number, string>>;
  /** The next of the sizes at which the range is wanted (-1: none), and its place among them. */
  #size: number;
  #wanted = 0;

  constructor(work: ChunkWork, hx: HexHasher, check: ChunkIndexCheck, tiles: Map<number, Map<number, string>>) {
    this.#work = work;
    this.#size = work.sizes[0] ?? -1;
    this.#hx = hx;
    this.#check = check;
    this.#tiles = tiles;
    this.range = new HexRange(hx, 0, true);
  }

  /** Whether the walk found something and stops. */
  get stopped(): boolean {
    return this.finding !== undefined || this.problem !== undefined;
  }

  /** The entry at `index` as read packed: true when checked, false when it stopped the walk or the exact read must decide. */
  packed(index: number, packed: PackedEntry): boolean {
    if (packed === null || !unpack(packed)) return false;
    const text = packed.slice(unpacked.text);
    // Scanned first: a plain entry is ASCII, so its text holds its bytes exactly; any other does when it has no U+FFFD (what bytes that are not UTF-8 read as).
    const scan = scanEntry(text);
    if (scan === undefined && text.includes('\ufffd')) return false;
    const hx = this.#hx;
    const leaf = scan !== undefined ? hx.leafOfPrefixed(leafInput(scan)) : hx.leafOfText(text);
    // 64 characters of hex, the cut's own length (a caller's hasher may make digests of other sizes).
    if (leaf.length !== 64 || !packed.startsWith(leaf, unpacked.leaf)) return false;
    return this.#entry(index, packed.slice(unpacked.id, unpacked.leaf), text, scan, leaf);
  }

  /** The entry at `index` exactly as stored (undefined: there is none): true when checked. */
  exact(index: number, exact: ExactRow | undefined): boolean {
    if (!exact) return this.#stop(index, 'entry', index, 'ERR_ENTRY_MISSING', `no entry at index ${index}`);
    const leaf = this.#hx.leafOfBytes(exact.bytes);
    if (leaf !== exact.leafHex) return this.#stop(index, 'entry', index, 'ERR_LEAF_HASH_MISMATCH', `entry ${index} does not match its stored leaf hash`);
    const text = decodeUtf8(exact.bytes);
    return this.#entry(index, exact.id, text, text === undefined ? undefined : scanEntry(text), leaf);
  }

  /** An entry whose leaf hash is right: its record, its index row, its leaf in the tree. */
  #entry(index: number, id: unknown, text: string | undefined, scan: EntryScan | undefined, leaf: string): boolean {
    const read = scan ? readScannedEntry(index, id, scan) : readParsedEntry(index, id, text);
    if (read instanceof EntryFinding) return this.#stop(index, 'entry', index, read.code, read.message);
    // The index problem comes before anything the walk meets from here on: stop.
    this.problem = isScan(read) ? this.#check.scanned(read) : this.#check.add(read);
    if (this.problem) return false;
    try {
      this.range.append(leaf, this);
    } catch (err) {
      if (!(err instanceof TileFinding)) throw err;
      const { first, code, message, tile } = err.problem;
      return this.#stop(index, 'tree', first, code, message, tile);
    }
    if (index + 1 === this.#size) {
      this.ranges.set(this.#size, this.range.nodes.map(this.#hx.hexOf));
      this.#size = this.#work.sizes[++this.#wanted] ?? -1;
    }
    return true;
  }

  #stop(at: number, phase: ChunkFinding['phase'], index: number, code: VerifyCode, message: string, tile?: Required<TreeNode>): false {
    this.finding = { index, code, message, at, phase, ...(tile ? { tile } : {}) };
    return false;
  }

  /** Each node the leaves complete (the range's visitor): one at a tile level is stored. */
  visit(l: number, i: number, hash: string): void {
    if (l % 8 !== 0) return;
    const node = Math.floor(this.#work.start / 2 ** l) + i;
    // Which of the two is wrong, when they differ, is for the join to tell by the signed roots.
    const problem = storedHashProblem(l, node, this.#tiles.get(l)?.get(node), this.#hx.hexOf(hash));
    if (problem) throw new TileFinding(problem);
  }
}

/** Where the parts of the entry {@link unpack} last read start. */
const unpacked = { id: 0, leaf: 0, text: 0 };

/**
 * Finds the parts of a packed entry (into `unpacked`); false when the string
 * does not show them for sure. Stored values are hostile (an id or leaf hash
 * of any length, any bytes) and the string is cut by the id's length in
 * bytes, so it is trusted only where that cut is exact: the n characters
 * after the length are ASCII (an id with other characters has fewer
 * characters than bytes, and all of them would be among the n), and a space
 * follows the 64 characters after them. The caller then requires those 64
 * to be the leaf hash it computes of the rest (only hex: so the stored hex
 * is exactly 64 characters, and the rest exactly the text).
 */
function unpack(packed: string): boolean {
  let n = 0;
  let p = 0;
  for (let c = packed.charCodeAt(0); c >= 0x30 && c <= 0x39 && p < 6; c = packed.charCodeAt(++p)) n = n * 10 + (c - 0x30);
  if (p === 0 || packed.charCodeAt(p) !== 0x20) return false;
  const id = p + 1;
  const leaf = id + n;
  if (packed.charCodeAt(leaf + 64) !== 0x20) return false;
  for (let k = id; k < leaf; k++) if (packed.charCodeAt(k) > 0x7f) return false;
  unpacked.id = id;
  unpacked.leaf = leaf;
  unpacked.text = leaf + 65;
  return true;
}

/** A stored tile-level hash found wrong while the leaves are appended (thrown out of the range's visitor). */
class TileFinding extends Error {
  constructor(readonly problem: StoredHashProblem) {
    super(problem.message);
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of bytes that are UTF-8, else undefined. */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}
