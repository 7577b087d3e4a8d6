import {
  CompactRange, LogError, canonicalize, equalBytes, fromUtf8, openNote, parseCheckpoint, toBase64,
  type EventRecord, type Hasher, type NoteVerifier,
} from '@stele/log';
import type { LogDriver, StoredCheckpoint, StoredEntry } from './driver.js';
import { isPlainlyCanonical } from './canonicalText.js';
import { nodeHasher } from './hash.js';
import { IndexWorkerFailed, inlineIndexCheck, workerIndexCheck, type IndexCheck } from './verifyIndex.js';

/** What verification found wrong; a closed list. */
export type VerifyCode =
  | 'ERR_ENTRY_MISSING' // no entry at an index below the log's size
  | 'ERR_ENTRY_MALFORMED' // an entry is not UTF-8 JSON of a record
  | 'ERR_ENTRY_NOT_CANONICAL' // an entry's bytes are not the RFC 8785 form of its record
  | 'ERR_ENTRY_INDEX_MISMATCH' // a record names another index than the one it is stored at
  | 'ERR_ENTRY_ID_MISMATCH' // a row's id differs from its record's
  | 'ERR_LEAF_HASH_MISMATCH' // a stored leaf hash differs from the entry's
  | 'ERR_TREE_HASH_MISSING' // a tile-level hash is not stored
  | 'ERR_TREE_HASH_MISMATCH' // a stored tile-level hash differs from the recomputed one
  | 'ERR_INDEX_MISMATCH' // the query index disagrees with the entries
  | 'ERR_CHECKPOINT_MISSING' // entries without a latest checkpoint
  | 'ERR_CHECKPOINT_SIGNATURE' // a checkpoint's signature does not verify with the log's key
  | 'ERR_CHECKPOINT_MALFORMED' // a checkpoint does not parse, or names another origin or size
  | 'ERR_CHECKPOINT_ROOT_MISMATCH' // a checkpoint's root differs from the tree of the entries
  | 'ERR_AGAINST_SIGNATURE' // the outside checkpoint does not verify with the log's key
  | 'ERR_AGAINST_ROLLBACK' // the outside checkpoint is larger than the log: entries were removed
  | 'ERR_AGAINST_INCONSISTENT'; // the log is not an extension of the outside checkpoint

/** Entries read at a time within a chunk. */
const SLICE = 1024;

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
  /** Entries read per chunk (default 8,192). */
  chunk?: number;
}

/** A failure found during the walk; thrown inside, returned outside. */
class Finding extends Error {
  constructor(
    readonly index: number | null,
    readonly code: VerifyCode,
    message: string,
  ) {
    super(message);
  }
}

interface Claim {
  size: number;
  root: Uint8Array;
  what: string;
  code: VerifyCode;
}

/**
 * Recomputes everything from the stored entries: every leaf hash, every
 * tile-level hash, the query index, and every stored checkpoint's signature
 * and root at its size. Every checkpoint's root is recomputed from one
 * sequence of leaves, so agreeing checkpoints are consistent with each other
 * by construction. Reports the first problem in index order.
 */
export async function verifyLog(options: VerifyOptions): Promise<VerifyResult> {
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
  for (const parallel of [true, false]) {
    try {
      return await walk(options, progress, parallel);
    } catch (err) {
      if (err instanceof Finding) return { ok: false, index: err.index, code: err.code, message: err.message };
      if (!(parallel && err instanceof IndexWorkerFailed)) throw err;
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
  // Started before the signatures are checked, so that it is ready when the walk begins.
  const worker = parallel ? workerIndexCheck(driver, size) : undefined;
  try {
    return await walkEntries(options, onProgress, stored, size, worker);
  } finally {
    await worker?.close();
  }
}

async function walkEntries(
  options: VerifyOptions,
  onProgress: VerifyOptions['onProgress'],
  stored: StoredCheckpoint[],
  size: number,
  worker: IndexCheck | undefined,
): Promise<VerifyResult> {
  const { driver, verifier, origin } = options;
  const hasher = options.hasher ?? nodeHasher;
  const chunk = options.chunk ?? 8192;

  // Signatures are cheap next to the walk, but a failure is reported where the walk reaches it.
  const claims: Claim[] = [];
  const deferred: Finding[] = [];
  for (const cp of stored) {
    const at = Math.max(cp.size - 1, 0);
    try {
      const claim = await openCheckpoint(cp.note, verifier, origin, 'ERR_CHECKPOINT_SIGNATURE', 'ERR_CHECKPOINT_MALFORMED');
      if (claim.size !== cp.size) throw new Finding(at, 'ERR_CHECKPOINT_MALFORMED', `checkpoint stored at size ${cp.size} says size ${claim.size}`);
      claims.push({ ...claim, what: `checkpoint at size ${cp.size}`, code: 'ERR_CHECKPOINT_ROOT_MISMATCH' });
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
    claims.push({ ...claim, what: `the saved checkpoint at size ${claim.size}`, code: 'ERR_AGAINST_INCONSISTENT' });
  }
  claims.sort((a, b) => a.size - b.size);
  deferred.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));

  const range = CompactRange.empty(hasher);
  // Where the entries last agreed with a signed root, per kind of claim: the log's own
  // checkpoints vouch only for each other (a stolen key signs them all alike), so a saved
  // checkpoint that disagrees narrows the change down only by earlier saved ones.
  const lastGood = new Map<VerifyCode, number>();
  let nextClaim = 0;
  const checkClaims = () => {
    while (deferred.length > 0 && (deferred[0]!.index ?? 0) < range.size) throw deferred[0]!;
    while (nextClaim < claims.length && claims[nextClaim]!.size === range.size) {
      const claim = claims[nextClaim++]!;
      const floor = lastGood.get(claim.code) ?? 0;
      if (!equalBytes(claim.root, range.root())) {
        throw new Finding(floor, claim.code, `${claim.what} does not match the entries: an entry in [${floor}, ${claim.size}) differs from what was signed`);
      }
      lastGood.set(claim.code, claim.size);
    }
  };
  checkClaims();

  // Made even when a worker checks the index: a store without its index tables fails here, as ever.
  const checker = driver.indexChecker();
  const indexCheck = worker ?? inlineIndexCheck(checker);
  for (let start = 0; start < size; start += chunk) {
    const end = Math.min(size, start + chunk);
    const tileHashes = await readTileHashes(driver, start, end);
    const compare = (level: number, index: number, hash: Uint8Array) => {
      if (level === 0 || level % 8 !== 0) return;
      const first = index * 2 ** level;
      const got = tileHashes.get(level)?.get(index);
      if (!got) throw new Finding(first, 'ERR_TREE_HASH_MISSING', `no stored hash for the subtree of level ${level} starting at index ${first}`);
      if (!equalBytes(got, hash)) throw new Finding(first, 'ERR_TREE_HASH_MISMATCH', `the stored hash of the subtree of level ${level} starting at index ${first} is wrong`);
    };
    try {
      // Read in slices: a whole chunk of entries alive at once costs more in garbage collection than the reads.
      let rows: StoredEntry[] = [];
      let r = 0;
      for (let index = start; index < end; index++) {
        if (r === rows.length) {
          rows = await driver.scan(index, Math.min(end, index + SLICE));
          r = 0;
        }
        const row = rows[r];
        if (!row || row.index !== index) throw new Finding(index, 'ERR_ENTRY_MISSING', `no entry at index ${index}`);
        r++;
        const leaf = hasher.hashLeaf(row.bytes);
        if (!equalBytes(leaf, row.leafHash)) throw new Finding(index, 'ERR_LEAF_HASH_MISMATCH', `entry ${index} does not match its stored leaf hash`);
        const record = parseEntry(index, row.bytes);
        if (record.index !== index) throw new Finding(index, 'ERR_ENTRY_INDEX_MISMATCH', `entry ${index} is the record of index ${record.index}`);
        if (record.id !== row.id) throw new Finding(index, 'ERR_ENTRY_ID_MISMATCH', `entry ${index} is stored under id ${row.id} but is ${record.id}`);
        indexCheck.add(record);
        range.append(leaf, compare);
        checkClaims();
      }
    } catch (err) {
      // An earlier entry may already disagree with the query index: report the first problem.
      if (err instanceof Finding) await checkIndex(indexCheck, start);
      throw err;
    }
    await checkIndex(indexCheck, start);
    onProgress?.(end, size);
  }
  const problem = await indexCheck.finish(size);
  if (problem) throw new Finding(problem.index, 'ERR_INDEX_MISMATCH', problem.message);
  return { ok: true, size, root: toBase64(range.root()) };
}

async function checkIndex(indexCheck: IndexCheck, start: number): Promise<void> {
  const problem = await indexCheck.settle(start);
  if (problem) throw new Finding(problem.index, 'ERR_INDEX_MISMATCH', problem.message);
}

function parseEntry(index: number, bytes: Uint8Array): EventRecord {
  let text: string;
  let record: EventRecord;
  try {
    text = fromUtf8(bytes);
    record = JSON.parse(text) as EventRecord;
  } catch {
    throw new Finding(index, 'ERR_ENTRY_MALFORMED', `entry ${index} is not UTF-8 JSON`);
  }
  if (!record || typeof record !== 'object' || typeof record.actor !== 'object' || record.actor === null) {
    throw new Finding(index, 'ERR_ENTRY_MALFORMED', `entry ${index} is not an event record`);
  }
  // What the log writes passes the quick test; anything else gets the exact comparison.
  if (isPlainlyCanonical(text)) return record;
  let canonical: string;
  try {
    canonical = canonicalize(record);
  } catch {
    throw new Finding(index, 'ERR_ENTRY_MALFORMED', `entry ${index} has no canonical form`);
  }
  if (canonical !== text) throw new Finding(index, 'ERR_ENTRY_NOT_CANONICAL', `entry ${index} is not in canonical form`);
  return record;
}

/** The stored tile-level hashes that appending leaves [start, end) completes. */
async function readTileHashes(driver: LogDriver, start: number, end: number): Promise<Map<number, Map<number, Uint8Array>>> {
  const out = new Map<number, Map<number, Uint8Array>>();
  for (let level = 8; 2 ** level <= end; level += 8) {
    const span = 2 ** level;
    out.set(level, await driver.scanHashes(level, Math.floor(start / span), Math.floor(end / span) + 1));
  }
  return out;
}

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
    if (err instanceof LogError) throw new Finding(null, signatureCode, `signature does not verify with ${verifier.name}: ${err.message}`);
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
