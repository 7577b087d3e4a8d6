/**
 * The copy algorithm, the same for every target: make the archive hold the
 * log's tiles as of its current signed checkpoint, writing only what is
 * missing and never touching what is there.
 *
 * Where the archive stands is read from the archive itself, never from local
 * state: the first cycle lists the target, and checks that its newest
 * `checkpoints/<size>` is signed by this log and is a prefix of it (so an
 * archive of another log, or a log rolled back behind its archive, is refused).
 * Files go first, the checkpoint that covers them after: whatever a crash
 * leaves, every archived checkpoint has all its tiles, and the next run
 * finishes the rest.
 */
import { fromUtf8, utf8, type NoteVerifier } from '@stele/log';
import { ArchiveError } from './errors.js';
import { LATEST_PATH, checkpointPath, isObjectOf, objectUrl, objectsBetween, parseCheckpointPath, type TileObject } from './layout.js';
import { checkpointStanding, type ArchiveSource } from './source.js';
import type { ArchiveTarget, Lock } from './target.js';

/** Options of {@link createArchiver}. */
export interface ArchiverOptions {
  source: ArchiveSource;
  target: ArchiveTarget;
  /** The log's verifier: the archive's checkpoints must carry its signature. */
  verifier: NoteVerifier;
  /** The lock of the writes of a cycle starting at `now` (epoch ms); undefined writes unlocked. */
  lock: (now: number) => Lock | undefined;
  /** Also publish the newest checkpoint at the well-known `checkpoint` where the target can (default true). */
  latest?: boolean;
  /** Writes in flight at once (default 8). */
  concurrency?: number;
  /** The clock, epoch ms. */
  clock?: () => number;
  /** Called as files are copied: done of total. */
  onProgress?: (done: number, total: number) => void;
}

/** What one cycle did. */
export interface ArchiveCycle {
  /** The tree size the archive now holds (0 for an empty log). */
  size: number;
  /** The size the archive held before the cycle. */
  from: number;
  /** Objects written. */
  created: number;
  /** Objects found already there (with the same bytes). */
  existing: number;
  /** The archived checkpoint's path, when there is one. */
  checkpoint?: string;
  /** True when the well-known `checkpoint` was published in this cycle. */
  published: boolean;
  /** The lock the cycle's writes carried. */
  lock?: Lock;
}

/** Copies a log to a target, cycle after cycle. */
export interface Archiver {
  /** One cycle: copy what is new since the last one (the first one reads the target). */
  run(): Promise<ArchiveCycle>;
}

/**
 * Makes an archiver. It holds what the first cycle learnt from the target
 * (what is there) and what later cycles wrote, and nothing else.
 */
export function createArchiver(options: ArchiverOptions): Archiver {
  const { source, target, verifier } = options;
  const clock = options.clock ?? Date.now;
  const concurrency = options.concurrency ?? 8;
  const publishLatest = (options.latest ?? true) && target.publish !== undefined;
  /** Paths known to be in the archive, from the first listing; dropped after the first cycle. */
  let present: Set<string> | undefined;
  /** The size whose every file is known to be archived. */
  let covered: number | undefined;
  /** The content of the well-known checkpoint, as last seen or published. */
  let latest: string | undefined;
  let running: Promise<ArchiveCycle> | undefined;

  /** Reads the archive's position from the archive: what it holds, its newest checkpoint, checked against the log. */
  async function discover(size: number): Promise<number> {
    present = new Set<string>();
    let newest: number | undefined;
    for await (const path of target.list()) {
      present.add(path);
      const n = parseCheckpointPath(path);
      if (n !== undefined && (newest === undefined || n > newest)) newest = n;
    }
    if (present.has(LATEST_PATH)) {
      const bytes = await target.read(LATEST_PATH);
      latest = bytes === undefined ? undefined : fromUtf8(bytes);
    }
    if (newest === undefined) return 0;
    await checkArchivedCheckpoint(newest, size);
    return newest;
  }

  /** The archive's newest checkpoint must be this log's, at a size the log has, with the log's root there. */
  async function checkArchivedCheckpoint(archived: number, size: number): Promise<void> {
    const path = checkpointPath(archived);
    const diverged = (why: string) => new ArchiveError('ERR_ARCHIVE_DIVERGED', `${objectUrl(target.url, path)} ${why}; refusing to archive this log there`);
    const bytes = await target.read(path);
    if (bytes === undefined) throw diverged('was listed but cannot be read');
    const standing = await checkpointStanding(source, verifier, fromUtf8(bytes), size);
    if (standing.kind === 'unsigned') throw diverged("is not a checkpoint signed by this log's key");
    const cp = standing.checkpoint;
    if (standing.kind === 'other-origin' || cp.size !== archived) throw diverged(`names ${cp.origin} at size ${cp.size}`);
    if (standing.kind === 'ahead') throw diverged(`is ahead of the log (${archived} entries archived, ${size} in the log): the log was rolled back, or the archive belongs to another copy`);
    if (standing.kind === 'forked') throw diverged('has another root than the log at that size');
  }

  async function copy(objects: TileObject[], lock: Lock | undefined, tally: { created: number; existing: number }): Promise<void> {
    let next = 0;
    let done = 0;
    let failed = false;
    const worker = async () => {
      while (next < objects.length && !failed) {
        const object = objects[next++]!;
        try {
          const result = await target.create(object.path, await source.read(object), lock);
          tally[result === 'created' ? 'created' : 'existing']++;
        } catch (err) {
          failed = true; // the other workers stop after their current write
          throw err;
        }
        options.onProgress?.(++done, objects.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, objects.length) }, worker));
  }

  async function cycle(): Promise<ArchiveCycle> {
    const { size, checkpoint } = source.head();
    const from = covered ?? (await discover(size));
    if (checkpoint === undefined || size === 0) {
      covered = from;
      return { size: 0, from, created: 0, existing: 0, published: false };
    }
    const lock = options.lock(clock());
    const tally = { created: 0, existing: 0 };
    const cpPath = checkpointPath(size);
    if (size === covered) {
      return { size, from, ...tally, checkpoint: cpPath, published: await publish(checkpoint, lock), ...(lock ? { lock } : {}) };
    }
    let objects = objectsBetween(covered === undefined ? 0 : from, size);
    // Skip what the newest archived checkpoint vouches for; anything else already there
    // (left by an interrupted run) goes through create, which compares it and never rewrites it.
    if (present !== undefined) objects = objects.filter((o) => !(present!.has(o.path) && isObjectOf(o, from)));
    await copy(objects, lock, tally);

    if (!present?.has(cpPath)) {
      const result = await target.create(cpPath, utf8(checkpoint), lock);
      tally[result === 'created' ? 'created' : 'existing']++;
    }
    covered = size;
    present = undefined;
    return { size, from, ...tally, checkpoint: cpPath, published: await publish(checkpoint, lock), ...(lock ? { lock } : {}) };
  }

  /** Publishes the newest checkpoint at the well-known path unless it is already what is there. */
  async function publish(checkpoint: string, lock: Lock | undefined): Promise<boolean> {
    if (!publishLatest || latest === checkpoint) return false;
    await target.publish!(LATEST_PATH, utf8(checkpoint), lock);
    latest = checkpoint;
    return true;
  }

  return {
    run() {
      // One cycle at a time: a caller that asks while one runs waits for the next.
      const previous = running ?? Promise.resolve(undefined);
      const mine = previous.catch(() => undefined).then(cycle);
      running = mine;
      return mine.finally(() => {
        if (running === mine) running = undefined;
      });
    },
  };
}
