/**
 * Sealing: what turns a sequenced batch into a commit. Its leaves are hashed
 * into the tree, the tile-level hashes it completes are collected, the
 * checkpoint of the new tree is signed, and all of it goes to the driver as
 * one batch. The log service sequences (ids, indexes, entry bytes); a sealer
 * keeps the tree's tip and seals each batch on top of the one before.
 *
 * A sealer runs on the service's thread, its commits written there or on the
 * writer thread, or on the writer thread itself (writer/writerThread.ts),
 * which takes the hashing and the signature off a thread that also serves
 * HTTP.
 */
import {
  equalBytes, formatCheckpoint, parseCheckpoint, parseNote, signNote,
  type CompactRange, type Hasher, type NoteSigner,
} from '@stele/log';
import type { Batch, DriverHead, IndexRow, LogDriver, StoredEntry, TreeHash } from './driver.js';
import { StoreError } from './errors.js';
import { nodeHasher } from './hash.js';
import { createNodeSigner } from './signer.js';
import { readRange } from './tree.js';

/** An entry of a sequenced batch: its place, id and canonical bytes; its index row when asked. */
export interface UnsealedEntry {
  readonly index: number;
  readonly id: string;
  readonly bytes: Uint8Array;
  readonly row: IndexRow;
}

/** A batch as the log service sequenced it: consecutive entries, at least one. */
export interface UnsealedBatch {
  entries: readonly UnsealedEntry[];
  /** Epoch milliseconds: when its checkpoint counts as signed. */
  created: number;
  /** Also append the checkpoint to the history. */
  historic: boolean;
  /**
   * The log service's view of the store the batch was sequenced on: it
   * changes each time the service reads the store again (after a failed
   * commit, or to catch up with another writer). Once a commit fails, the
   * batches of its view and earlier ones are refused: they were sequenced on
   * top of it, and must not land even when another writer has made the log's
   * size match where they start.
   */
  view: number;
}

/** What a sealed batch's commit made durable. */
export interface SealedBatch {
  size: number;
  /** The signed checkpoint of the tree of `size` entries. */
  note: string;
  root: Uint8Array;
  /** The batch's leaf hashes, in order. */
  leafHashes: readonly Uint8Array[];
}

/** Seals batches on top of one another and commits them, in the order they were handed over. */
export interface Sealer {
  /**
   * Seals the batch on the tree's tip and commits it. Refuses it with
   * `ERR_SIZE_CONFLICT`, writing nothing, when the log does not end where the
   * batch starts (another writer appended) or a batch of its view or a later
   * one failed.
   */
  commit(batch: UnsealedBatch): Promise<SealedBatch>;
  /** Waits for the batches handed over, then lets go of what the sealer holds (not the driver). */
  close(): Promise<void>;
}

/** The durable state of a log: its tree and checkpoints, checked against each other. */
export interface LogState {
  head: DriverHead;
  range: CompactRange;
}

/**
 * Reads the tree and the latest checkpoint, and checks that they agree: a
 * new checkpoint is never signed on top of a tree that is not the one last
 * signed (`stele verify` tells what is wrong).
 *
 * @throws StoreError `ERR_STORE_CORRUPT` when they disagree.
 */
export async function readState(driver: LogDriver, hasher: Hasher): Promise<LogState> {
  const head = await driver.head();
  const range = await readRange(driver, hasher, head.size);
  if ((head.latest?.size ?? 0) !== head.size) {
    throw new StoreError('ERR_STORE_CORRUPT', `the latest checkpoint covers ${head.latest?.size ?? 0} entries but ${head.size} are stored; run stele verify`);
  }
  if (head.latest && !equalBytes(parseCheckpoint(parseNote(head.latest.note).text).root, range.root())) {
    throw new StoreError('ERR_STORE_CORRUPT', 'the stored tree does not match the latest checkpoint; run stele verify');
  }
  return { head, range };
}

/**
 * A sealer for the store behind `driver`, with Node's SHA-256, signing with
 * `signerKey` (signer.key's text) for the origin the store was created with.
 *
 * @throws StoreError `ERR_STORE_CORRUPT` when the store has no origin.
 */
export async function openSealer(driver: LogDriver, signerKey: string): Promise<Sealer> {
  const origin = await driver.getMeta('origin');
  if (!origin) throw new StoreError('ERR_STORE_CORRUPT', 'the store has no origin');
  return createSealer({ driver, hasher: nodeHasher, signer: await createNodeSigner(signerKey), origin });
}

/** Options of {@link createSealer}. */
export interface SealerOptions {
  driver: LogDriver;
  hasher: Hasher;
  signer: NoteSigner;
  origin: string;
  /** The store's state when the caller has just read it (readState), so that the first batch need not read it again. */
  state?: LogState;
}

interface Waiting {
  batch: UnsealedBatch;
  resolve(sealed: SealedBatch): void;
  reject(err: unknown): void;
}

/**
 * A sealer over a driver. Each batch is sealed on the tree the one before
 * left, as soon as it is handed over, and committed in order; the next is
 * sealed while the one before is being written (when the driver writes on
 * another thread), a commit whose parent did not land being refused by the
 * driver.
 *
 * It reads the tip from the store before its first batch (unless given the
 * state), after a failed seal or commit, and when a batch does not start
 * where the tip ends (another writer appended and the service caught up).
 */
export function createSealer(options: SealerOptions): Sealer {
  const { driver, hasher, signer, origin, state } = options;
  /** The tree and the note of the last batch sealed (committed, or being committed); undefined until read from the store. */
  let tip: { range: CompactRange; note: string | null } | undefined = state && { range: state.range, note: state.head.latest?.note ?? null };
  /** The latest view a batch failed in: batches of it and earlier ones are refused. */
  let failedView = -Infinity;
  const waiting: Waiting[] = [];
  /** Whether the loop that seals what waits is running, and when it last stops. */
  let running = false;
  let stopped: Promise<void> = Promise.resolve();
  /** The commits handed to the driver: settled when all have. */
  let committed: Promise<void> = Promise.resolve();

  /** Rejects a batch whose seal or commit failed; the tip is read again before the next batch. */
  function fail(w: Waiting, err: unknown): void {
    tip = undefined;
    failedView = Math.max(failedView, w.batch.view);
    w.reject(err);
  }

  async function run(): Promise<void> {
    while (waiting.length > 0) {
      const w = waiting.shift()!;
      if (w.batch.view <= failedView) {
        w.reject(new StoreError('ERR_SIZE_CONFLICT', 'the batch was sequenced on one that did not land; the log service reads the store again'));
        continue;
      }
      let sealed: { commit: Batch; answer: SealedBatch };
      try {
        sealed = await sealOnTip(w.batch);
      } catch (err) {
        fail(w, err);
        continue;
      }
      const { commit, answer } = sealed;
      // Handed to the driver at once, the next batch sealed while this one is written: the driver
      // commits in the order it is called, and refuses a commit whose parent did not land.
      const done = driver.commit(commit).then(() => w.resolve(answer), (err: unknown) => fail(w, err));
      committed = Promise.all([committed, done]).then(() => undefined);
    }
    running = false;
  }

  /** Seals a batch on the tip and moves the tip past it, before its commit lands (undone if it fails). */
  async function sealOnTip(batch: UnsealedBatch): Promise<{ commit: Batch; answer: SealedBatch }> {
    const { entries } = batch;
    const first = entries[0]!.index;
    if (!tip || tip.range.size !== first) {
      await committed;
      const { head, range } = await readState(driver, hasher);
      tip = { range, note: head.latest?.note ?? null };
    }
    const base = tip;
    if (base.range.size !== first) {
      throw new StoreError('ERR_SIZE_CONFLICT', `the batch starts at index ${first} but the log holds ${base.range.size} entries`);
    }
    const work = base.range.clone();
    const hashes: TreeHash[] = [];
    const keepTileLevels = (level: number, index: number, hash: Uint8Array) => {
      if (level > 0 && level % 8 === 0) hashes.push({ level, index, hash });
    };
    const sealed: (StoredEntry & { row: IndexRow })[] = new Array(entries.length);
    const leafHashes: Uint8Array[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.index !== first + i) throw new RangeError('a batch holds consecutive entries');
      const leafHash = hasher.hashLeaf(e.bytes);
      work.append(leafHash, keepTileLevels);
      leafHashes[i] = leafHash;
      sealed[i] = new SealedEntry(e, leafHash);
    }
    const size = work.size;
    const root = work.root();
    const note = await signNote(formatCheckpoint({ origin, size, root, extensions: [] }), signer);
    // Unless a failure reset the tip meanwhile.
    if (tip === base) tip = { range: work, note };
    const commit: Batch = {
      entries: sealed,
      hashes,
      checkpoint: { size, created: batch.created, note },
      historic: batch.historic,
      parent: base.note,
    };
    return { commit, answer: { size, note, root, leafHashes } };
  }

  return {
    commit(batch) {
      if (batch.entries.length === 0) return Promise.reject(new RangeError('a sealed batch holds at least one entry'));
      return new Promise<SealedBatch>((resolve, reject) => {
        waiting.push({ batch, resolve, reject });
        if (!running) {
          // Set before the loop starts: it may run to its end before returning.
          running = true;
          stopped = run();
        }
      });
    },
    async close() {
      await stopped;
      await committed;
      tip = undefined;
    },
  };
}

/**
 * An entry with its leaf hash, as the driver takes it. Its index row is read
 * only when the driver asks: a commit that crosses to the writer thread
 * leaves the rows to that thread.
 */
class SealedEntry implements StoredEntry {
  readonly index: number;
  readonly id: string;
  readonly bytes: Uint8Array;

  constructor(
    private readonly entry: UnsealedEntry,
    readonly leafHash: Uint8Array,
  ) {
    this.index = entry.index;
    this.id = entry.id;
    this.bytes = entry.bytes;
  }

  get row(): IndexRow {
    return this.entry.row;
  }
}


