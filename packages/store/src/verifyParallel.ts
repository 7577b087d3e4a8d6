/**
 * The worker side of verification: for a big log in a file, a worker thread
 * checks chunks (verifyChunk.ts) over its own connection while the calling
 * thread checks others. Both take the next chunk from one shared counter, so
 * each core does all the work of the chunks it takes, and the calling thread
 * joins the results in index order (verify.ts). Whenever the worker cannot
 * answer, verification starts over on one thread.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { IndexProblem } from './driver.js';
import type { ReaderSource } from './readerSource.js';
import type { ChunkResult } from './verifyChunk.js';

/** The worker could not answer; verification starts over on one thread. */
export class WorkerFailed extends Error {}

/** When verification uses a worker. Internal; tests and the benchmark change it. */
export const workerSettings = {
  /** Smaller logs are checked on one thread: a worker takes tens of milliseconds to start. */
  minEntries: 32_768,
  /** The compiled worker; absent when running from TypeScript sources (tests), which then check on one thread. */
  script: new URL('./verifyWorker.js', import.meta.url),
  /** Start over on one thread when the worker fails (tests turn it off to see failures). */
  startOver: true,
};

/** What the worker is asked to do (its workerData). */
export interface PoolWork {
  source: ReaderSource;
  size: number;
  /** Chunks are 2^level entries. */
  level: number;
  /** Sizes at which the joins need a chunk's compact range, ascending. */
  sizes: number[];
  /** The next chunk to take, shared: Atomics.add(next, 0, 1). */
  next: Int32Array;
  /** Set to 1 when the walk needs no more: the worker stops between chunks. */
  stop: Int32Array;
}

/**
 * What the worker posts: first FTS5's check of its inverted index (verify.ts
 * needs it last; done first, it overlaps the calling thread's chunks), then
 * each chunk it checked, then `done`; or `failed`, after which nothing.
 */
export type PoolMessage =
  | { kind: 'integrity'; problem: IndexProblem | undefined }
  | { kind: 'chunk'; chunk: number; result: ChunkResult }
  | { kind: 'done' }
  | { kind: 'failed'; message: string };

/** The calling thread's view of the worker. */
export interface ChunkPool {
  /** Takes the next chunk number (shared with the worker). */
  claim(): number;
  /** The chunks the worker has checked since the last call. */
  take(): [number, ChunkResult][];
  /** Lets the worker's messages in (between two chunks of this thread). */
  tick(): Promise<void>;
  /** The query index's own consistency, as the worker found it. */
  integrity(): Promise<IndexProblem | undefined>;
  /** Waits for the worker's next message; throws WorkerFailed when it can no longer answer. */
  wait(): Promise<void>;
  /** Asks the worker to stop and waits until it has. */
  close(): Promise<void>;
}

/** A worker on the store of `source`, or undefined when this build has none. */
export function startPool(work: Omit<PoolWork, 'next' | 'stop'>): ChunkPool | undefined {
  if (!existsSync(fileURLToPath(workerSettings.script))) return undefined;
  const next = new Int32Array(new SharedArrayBuffer(4));
  // Stopped by asking, never by terminate(): a worker terminated while
  // better-sqlite3 throws an error takes the whole process down with it.
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(workerSettings.script, { workerData: { ...work, next, stop } satisfies PoolWork });
  let ready: [number, ChunkResult][] = [];
  let done = false;
  let failed = false;
  let exited = false;
  let wake: (() => void) | undefined;
  const changed = () => {
    wake?.();
    wake = undefined;
  };
  let failure = '';
  let integrity: { problem: IndexProblem | undefined } | undefined;
  worker.on('message', (m: PoolMessage) => {
    if (m.kind === 'chunk') ready.push([m.chunk, m.result]);
    else if (m.kind === 'integrity') integrity = { problem: m.problem };
    else if (m.kind === 'done') done = true;
    else [failed, failure] = [true, m.message];
    changed();
  });
  worker.on('error', (err) => {
    [failed, failure] = [true, String(err)];
    changed();
  });
  worker.on('exit', () => {
    exited = true;
    changed();
  });
  const check = () => {
    if (failed || (exited && !done)) throw new WorkerFailed(`the verification worker cannot answer: ${failure || 'it stopped'}`);
  };
  return {
    claim: () => Atomics.add(next, 0, 1),
    take() {
      check();
      const out = ready;
      ready = [];
      return out;
    },
    tick: () => new Promise<void>((resolve) => setImmediate(resolve)),
    async integrity() {
      for (;;) {
        check();
        if (integrity) return integrity.problem;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    async wait() {
      check();
      if (ready.length > 0) return;
      // The worker took chunks it has not answered yet: wait for them (or its end).
      if (done) throw new WorkerFailed('the verification worker finished without answering');
      await new Promise<void>((resolve) => (wake = resolve));
      check();
    },
    async close() {
      Atomics.store(stop, 0, 1);
      while (!exited) await new Promise<void>((resolve) => (wake = resolve));
    },
  };
}
