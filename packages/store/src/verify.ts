import { LogError, openNote, parseCheckpoint, parseNote, toBase64, toHex, type Hasher, type NoteVerifier } from '@stele/log';
import type { LogDriver, StoredCheckpoint } from './driver.js';
import { nodeHasher } from './hash.js';
import { readerSourceOf } from './readerSource.js';
import type { UnitProblem } from './sqlite/indexChecker.js';
import { checkChunk, storedTreeOf, workOf, type ChunkFinding, type ChunkResult, type ChunkSource } from './verifyChunk.js';
import { startPool, WorkerFailed, workerSettings, type ChunkPool } from './verifyParallel.js';
import { describeGuards } from './verifyGuards.js';
import { driverChunkSource, sqliteChunkSource } from './verifySource.js';
import { foldHex, hexHasherOf, HexRange, signedSide, storedHashProblem, subtreeName, type TreeNode } from './verifyTree.js';

/** What verification found wrong; a closed list. */
export type VerifyCode =
  | 'ERR_ENTRY_MISSING' // no entry at an index below the log's size
  | 'ERR_ENTRY_MALFORMED' // an entry is not UTF-8 JSON of a record, or its record cannot be indexed
  | 'ERR_ENTRY_NOT_CANONICAL' // an entry's bytes are not the RFC 8785 form of its record
  | 'ERR_ENTRY_INDEX_MISMATCH' // a record names another index than the one it is stored at
  | 'ERR_ENTRY_ID_MISMATCH' // a row's id differs from its record's
  | 'ERR_LEAF_HASH_MISMATCH' // a stored leaf hash differs from the entry's
  | 'ERR_TREE_HASH_MISSING' // a tile-level hash is not stored
  | 'ERR_TREE_HASH_MISMATCH' // a stored tile-level hash differs from the recomputed one, and the entries' reproduce the signed root or no signed root tells
  | 'ERR_INDEX_MISMATCH' // the query index disagrees with the entries, which agree with the signed tree as far as it tells
  | 'ERR_CHECKPOINT_MISSING' // entries without a latest checkpoint
  | 'ERR_CHECKPOINT_SIGNATURE' // a checkpoint's signature does not verify with the log's key
  | 'ERR_CHECKPOINT_MALFORMED' // a checkpoint does not parse, or names another origin or size
  | 'ERR_CHECKPOINT_ROOT_MISMATCH' // a checkpoint's root differs from the tree of the entries: an entry differs from what was signed (also when a stored tile-level hash or the query index shows it first)
  | 'ERR_AGAINST_SIGNATURE' // the outside checkpoint does not verify with the log's key
  | 'ERR_AGAINST_ROLLBACK' // the outside checkpoint is larger than the log: entries were removed
  | 'ERR_AGAINST_INCONSISTENT' // the log is not an extension of the outside checkpoint (no index: one root names no entry)
  | 'ERR_GUARDS_MISSING'; // the storage's own guards against changing committed rows are missing or altered (the contents verify)

/** The outcome of {@link verifyLog}. */
export type VerifyResult =
  | { ok: true; size: number; root: string }
  | { ok: false; index: number | null; code: VerifyCode; message: string };

/** Options of {@link verifyLog}. */
export interface VerifyOptions {
  driver: LogDriver;
  verifier: NoteVerifier;
  origin: string;
  hasher?: Hasher;
  /** A signed checkpoint kept elsewhere: the log must extend it. */
  against?: string;
  /** Called after every chunk with entries done and total. */
  onProgress?: (done: number, total: number) => void;
  /** Entries per chunk, rounded down to a power of two of at least 64 (default 4,096). */
  chunk?: number;
  /**
   * 2 (the default): a large log in a file is checked by this thread and a
   * worker thread together; 1: by this thread alone, leaving the other core
   * to whatever else runs (a collector checking itself while it appends).
   */
  threads?: 1 | 2;
}

/** A failure found during the walk; thrown inside, returned outside. */
class Finding extends Error {
  constructor(
    readonly index: number | null,
    readonly code: VerifyCode,
    message: string,
    /** Of ERR_TREE_HASH_MISMATCH: the node, with the entries' hash, until the signed roots tell which side is wrong. */
    readonly tile?: Required<TreeNode>,
  ) {
    super(message);
  }
}

interface Claim {
  size: number;
  /** The signed root, hex. */
  root: string;
  what: string;
  code: VerifyCode;
}

/**
 * Recomputes everything from the stored entries: every leaf hash, every
 * tile-level hash, the query index, and every stored checkpoint's signature
 * and root at its size. Every checkpoint's root is recomputed from one
 * sequence of leaves, so agreeing checkpoints are consistent with each other
 * by construction. Reports the first problem in index order, as a walk
 * entry by entry would meet it: per entry its presence, leaf hash, bytes
 * (UTF-8 JSON of a record, canonical), index, id and index row, then the
 * tree nodes its leaf completes, then the signed roots at its size; and a
 * problem of the query index as soon as the walk has derived the rows of
 * every entry the problem is about.
 *
 * What is wrong is named by the signed roots, which write access to the
 * file alone cannot forge. An entry changed with its leaf hash shows first as
 * an index row or a stored tile-level hash that disagrees with it; before
 * either is reported, the first signed root past it is asked which side it
 * takes (verifyTree.ts's signedSide, on the failure path only): if the
 * entries do not reproduce it, the finding is the root's mismatch, naming
 * the range of entries that differ from what was signed (and the entry the
 * index points at); if they do, the index or the stored hash is wrong.
 *
 * The walk goes in chunks, which the calling thread and, for a big log in a
 * file, a worker thread check side by side (verifyChunk.ts); the results are
 * joined in index order here, so the answer is the same either way.
 *
 * The driver's guards against changing committed rows (when it has any) are
 * checked too. They have no index: a problem with them is the failure only
 * when the contents verify, and is mentioned in the message of any other.
 */
export async function verifyLog(options: VerifyOptions): Promise<VerifyResult> {
  const guards = (await options.driver.guardProblems?.()) ?? [];
  const result = await verifyContents(options);
  if (guards.length === 0) return result;
  if (!result.ok) return { ...result, message: `${result.message}; also, ${describeGuards(guards)}` };
  const entries = result.size === 1 ? 'the 1 entry verifies' : `the ${result.size} entries verify`;
  const checked = options.against === undefined
    ? `${entries} against the log's own checkpoints, but only a checkpoint kept elsewhere can show that none were removed`
    : `${entries} against the log's checkpoints and the saved one`;
  const what = guards.every((g) => g.kind === 'missing') ? 'dropped' : 'changed';
  const message = `${describeGuards(guards)}: someone with write access to the file ${what} them; ${checked}`;
  return { ok: false, index: null, code: 'ERR_GUARDS_MISSING', message };
}

/** Everything but the guards. */
async function verifyContents(options: VerifyOptions): Promise<VerifyResult> {
  // Progress never goes back, also when a walk with a worker starts over on one thread.
  let reported = 0;
  const onProgress = options.onProgress;
  const progress =
    onProgress &&
    ((done: number, total: number) => {
      if (done <= reported) return;
      reported = done;
      onProgress(done, total);
    });
  for (const parallel of options.threads === 1 ? [false] : [true, false]) {
    try {
      return await walk(options, progress, parallel);
    } catch (err) {
      if (err instanceof Finding) return { ok: false, index: err.index, code: err.code, message: err.message };
      if (!(parallel && err instanceof WorkerFailed && workerSettings.startOver)) throw err;
    }
  }
  throw new Error('unreachable');
}

async function walk(options: VerifyOptions, onProgress: VerifyOptions['onProgress'], parallel: boolean): Promise<VerifyResult> {
  const { driver } = options;
  const head = await driver.head();
  const stored: StoredCheckpoint[] = await driver.readCheckpoints();
  if (head.latest && !stored.some((c) => c.size === head.latest!.size && c.note === head.latest!.note)) stored.push(head.latest);

  const size = Math.max(head.size, ...stored.map((c) => c.size));
  if (size > 0 && !head.latest) throw new Finding(size - 1, 'ERR_CHECKPOINT_MISSING', `${size} entries but no latest checkpoint`);
  const level = Math.max(6, Math.floor(Math.log2(Math.max(64, options.chunk ?? 4096))));
  // The compact ranges the joins need inside chunks: at every size a checkpoint may sign (read
  // before any signature is checked: only to ask for a range), and at the end for the root.
  const sizes = [...new Set([...stored.map((c) => c.size), ...sizeOf(options.against), size])].sort((a, b) => a - b);

  const reader = readerSourceOf(driver);
  const source = reader ? sqliteChunkSource(reader) : driverChunkSource(driver);
  // Started first, so that it is ready when the walk begins; only with Node's hashing (a worker cannot be handed a function).
  const ownHasher = options.hasher === undefined || options.hasher === nodeHasher;
  const pool = parallel && reader && ownHasher && size >= workerSettings.minEntries ? startPool({ source: reader, size, level, sizes }) : undefined;
  try {
    const claims = await readClaims(options, stored, size);
    return await join(options, onProgress, source, pool, size, level, sizes, claims);
  } finally {
    await pool?.close();
    source.close();
  }
}

/** The size a checkpoint note names, unverified (none when it does not parse). */
function sizeOf(note: string | undefined): number[] {
  if (note === undefined) return [];
  try {
    return [parseCheckpoint(parseNote(note).text).size];
  } catch {
    return [];
  }
}

/** The signed roots to check, by size, and the checkpoints that failed before any entry was read. */
async function readClaims(options: VerifyOptions, stored: StoredCheckpoint[], size: number): Promise<{ claims: Claim[]; deferred: Finding[] }> {
  const { verifier, origin } = options;
  // Signatures are cheap next to the walk, but a failure is reported where the walk reaches it.
  const claims: Claim[] = [];
  const deferred: Finding[] = [];
  for (const cp of stored) {
    const at = Math.max(cp.size - 1, 0);
    try {
      const claim = await openCheckpoint(cp.note, verifier, origin, 'ERR_CHECKPOINT_SIGNATURE', 'ERR_CHECKPOINT_MALFORMED');
      if (claim.size !== cp.size) throw new Finding(at, 'ERR_CHECKPOINT_MALFORMED', `checkpoint stored at size ${cp.size} says size ${claim.size}`);
      claims.push({ size: claim.size, root: toHex(claim.root), what: `the checkpoint at size ${cp.size}`, code: 'ERR_CHECKPOINT_ROOT_MISMATCH' });
    } catch (err) {
      if (!(err instanceof Finding)) throw err;
      deferred.push(new Finding(at, err.code, `checkpoint at size ${cp.size}: ${err.message}`));
    }
  }
  if (options.against !== undefined) {
    const claim = await openCheckpoint(options.against, verifier, origin, 'ERR_AGAINST_SIGNATURE', 'ERR_AGAINST_SIGNATURE');
    if (claim.size > size) {
      throw new Finding(size, 'ERR_AGAINST_ROLLBACK', `the saved checkpoint covers ${claim.size} entries but the log holds ${size}: entries were removed`);
    }
    claims.push({ size: claim.size, root: toHex(claim.root), what: `the saved checkpoint at size ${claim.size}`, code: 'ERR_AGAINST_INCONSISTENT' });
  }
  claims.sort((a, b) => a.size - b.size);
  deferred.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  return { claims, deferred };
}

/** Walks the chunks, on this thread and in the pool, and joins their results in index order. */
async function join(
  options: VerifyOptions,
  onProgress: VerifyOptions['onProgress'],
  source: ChunkSource,
  pool: ChunkPool | undefined,
  size: number,
  level: number,
  sizes: number[],
  { claims, deferred }: { claims: Claim[]; deferred: Finding[] },
): Promise<VerifyResult> {
  const hx = hexHasherOf(options.hasher);
  const empty = toHex((options.hasher ?? nodeHasher).emptyRoot());
  const top = new HexRange(hx, level); // the roots of whole chunks
  const width = 2 ** level;
  const chunks = Math.ceil(size / width);
  // Where the entries last agreed with a signed root, per kind of claim: the log's own
  // checkpoints vouch only for each other (a stolen key signs them all alike), so a saved
  // checkpoint that disagrees narrows the change down only by earlier saved ones.
  const lastGood = new Map<VerifyCode, number>();
  // Claims before this one matched the entries.
  let nextClaim = 0;
  // The first checkpoint that failed on its own is reported where the walk reaches it, unless something comes first.
  const failed = deferred[0];
  // Read only to tell which side a signed root takes.
  const tree = storedTreeOf(source, hx);

  /** The finding of a claim whose root the entries [0, claim.size) do not reproduce. */
  const mismatch = (claim: Claim): Finding => {
    const floor = lastGood.get(claim.code) ?? 0;
    const range = `an entry in [${floor}, ${claim.size}) differs from what was signed`;
    // A saved checkpoint is one root: nothing in it shows where the log went another way, and no index would be honest.
    if (claim.code === 'ERR_AGAINST_INCONSISTENT') return new Finding(null, claim.code, `the log does not extend ${claim.what}: ${range}; one root cannot tell which`);
    return new Finding(floor, claim.code, `${claim.what} does not match the entries: ${range}`);
  };

  /** What a stored tile-level hash that differs from its entries' is: the entries' change when the signed root says so. */
  const ofTile = async (found: Finding): Promise<Finding> => {
    if (!found.tile) return found;
    const { level: l, index: i } = found.tile;
    const start = i * 2 ** l;
    const end = start + 2 ** l;
    const subtree = `the stored hash of ${subtreeName(l, start)}`;
    // Claims below `end` have matched; the first at or past it covers the node.
    const claim = claims.find((c) => c.size >= end);
    const side = claim && (await signedSide(hx, empty, tree, claim, found.tile));
    if (claim && side === 'entries') return new Finding(start, found.code, `${subtree} is wrong: the hash of its entries fits ${claim.what}`);
    if (claim && side === 'stored') {
      const from = Math.max(start, lastGood.get(claim.code) ?? 0);
      return new Finding(from, claim.code, `${claim.what} does not match the entries: an entry in [${from}, ${end}) differs from what was signed (${subtree} fits it, the entries under it do not)`);
    }
    // Nothing stored past the node was needed: the entries' own tree is what differs.
    if (claim && claim.size === end) return mismatch(claim);
    return new Finding(start, found.code, `${subtree} differs from the hash of its entries, and no signed root tells which is wrong`);
  };

  /** What an index problem is: the entry's change when the signed root its leaf is under says so. */
  const ofIndex = async (problem: UnitProblem): Promise<Finding> => {
    const e = problem.index;
    const k = e === null ? -1 : claims.findIndex((c) => c.size > e);
    // Claims before nextClaim matched the entries: an entry below one's size is as signed.
    if (e === null || k < nextClaim) return indexFinding(problem);
    const claim = claims[k]!;
    const tile = Math.floor(e / 256);
    const end = (tile + 1) * 256;
    const floor = lastGood.get(claim.code) ?? 0;
    const side = await signedSide(hx, empty, tree, claim, { level: 8, index: tile });
    // The entries differ: under the tile when the stored tree fits the root; below the root when nothing stored past the tile was needed.
    let from: number;
    let to: number;
    if (side === 'stored') [from, to] = [Math.max(tile * 256, floor), Math.min(end, claim.size)];
    else if (side === undefined && end >= claim.size) [from, to] = [floor, claim.size];
    else return indexFinding(problem);
    return new Finding(
      e,
      claim.code,
      `${claim.what} does not match the entries: an entry in [${from}, ${to}) differs from what was signed; entry ${e}, the first there that disagrees with its index row (written when it was appended), is most likely the one changed`,
    );
  };

  /** What the walk reports at a finding that leaves the rows of entries [0, rows) derived: the chunk's index problem if those rows show it. */
  const first = (found: Finding, rows: number, index: UnitProblem | undefined): Promise<Finding> =>
    index && index.needs <= rows ? ofIndex(index) : ofTile(found);

  /**
   * The signed roots and deferred checkpoint findings due once the leaf at
   * `at` is in (size at + 1), or before any leaf when `at` is -1. `nodes` is
   * the compact range at that size past the whole chunks; `index` the
   * chunk's index problem, which comes first if the walk has its rows.
   */
  const settle = async (at: number, nodes: readonly string[], index: UnitProblem | undefined) => {
    if (failed && (failed.index ?? 0) <= at) throw await first(failed, at + 1, index);
    while (nextClaim < claims.length && claims[nextClaim]!.size === at + 1) {
      const claim = claims[nextClaim]!;
      if (claim.root !== foldHex(hx, empty, [...top.nodes, ...nodes])) throw await first(mismatch(claim), at + 1, index);
      lastGood.set(claim.code, claim.size);
      nextClaim++;
    }
  };
  await settle(-1, [], undefined);

  const merge = async (result: ChunkResult) => {
    const { finding, index } = result;
    // Events at leaves before this one come first: the chunk's finding, or where its index problem shows (it wins from there on).
    const stop = Math.min(finding?.at ?? result.end, index ? index.needs - 1 : result.end);
    const ranges = new Map(result.ranges);
    // Deferred findings and claims inside the chunk, in walk order, before its own finding.
    for (;;) {
      const d = failed ? Math.max(failed.index ?? 0, result.start) : Infinity;
      const c = nextClaim < claims.length ? claims[nextClaim]!.size - 1 : Infinity;
      const at = Math.min(d, c);
      if (at >= stop || at === Infinity) break;
      if (at === result.end - 1 && !finding && !index) break; // the tile levels above the chunk come first
      await settle(at, ranges.get(at + 1) ?? [], index);
    }
    if (finding) throw await first(chunkFinding(finding), finding.phase === 'entry' ? finding.at : finding.at + 1, index);
    if (index) throw await ofIndex(index);
    if (result.root !== undefined) {
      const done: [number, number, string][] = [];
      top.append(result.root, {
        visit: (l, i, hash) => {
          if (l % 8 === 0) done.push([l, i, hash]);
        },
      });
      for (const [l, i, hash] of done) {
        const problem = storedHashProblem(l, i, (await source.hashes(l, i, i + 1)).get(i), hash);
        if (problem) throw await first(new Finding(problem.first, problem.code, problem.message, problem.tile), result.end, index);
      }
      await settle(result.end - 1, [], index);
    } else {
      await settle(result.end - 1, ranges.get(result.end) ?? [], index);
    }
  };

  const results = new Map<number, ChunkResult>();
  let joined = 0;
  let covered = 0;
  let tail: readonly string[] = []; // the compact range of the entries past the last whole chunk
  const joinReady = async () => {
    if (pool) for (const [c, result] of pool.take()) results.set(c, result);
    for (let result = results.get(joined); result; result = results.get(joined)) {
      results.delete(joined++);
      await merge(result);
      covered = result.covered;
      if (result.end === size && result.root === undefined) tail = result.ranges.find(([at]) => at === size)?.[1] ?? [];
      onProgress?.(result.end, size);
    }
  };
  let own = 0;
  for (;;) {
    await joinReady();
    const c = pool ? pool.claim() : own++;
    if (c >= chunks) break;
    results.set(c, await checkChunk(source, hx, workOf(c, level, size, sizes)));
    if (pool) await pool.tick();
  }
  while (joined < chunks) {
    await joinReady();
    if (joined < chunks) await pool!.wait();
  }
  const problem = (await source.tail(covered, size)) ?? (pool ? await pool.integrity() : await source.integrity());
  if (problem) throw new Finding(problem.index, 'ERR_INDEX_MISMATCH', problem.message);
  return { ok: true, size, root: toBase64(Buffer.from(foldHex(hx, empty, [...top.nodes, ...tail]), 'hex')) };
}

const indexFinding = (problem: UnitProblem): Finding => new Finding(problem.index, 'ERR_INDEX_MISMATCH', problem.message);
const chunkFinding = (f: ChunkFinding): Finding => new Finding(f.index, f.code, f.message, f.tile);

/** Opens a checkpoint note with the log's key; hostile until the signature checks. */
async function openCheckpoint(
  note: string,
  verifier: NoteVerifier,
  origin: string,
  signatureCode: VerifyCode,
  malformedCode: VerifyCode,
): Promise<{ size: number; root: Uint8Array }> {
  let text: string;
  try {
    text = (await openNote(note, [verifier])).text;
  } catch (err) {
    if (err instanceof LogError) {
      throw new Finding(null, signatureCode, err.code === 'ERR_NOTE_MALFORMED' ? `not a signed note: ${err.message}` : `signature does not verify with ${verifier.name}: ${err.message}`);
    }
    throw err;
  }
  try {
    const cp = parseCheckpoint(text);
    if (cp.origin !== origin) throw new Finding(null, malformedCode, `origin is ${cp.origin}, not ${origin}`);
    return { size: cp.size, root: cp.root };
  } catch (err) {
    if (err instanceof LogError) throw new Finding(null, malformedCode, err.message);
    throw err;
  }
}
