/**
 * The query-index half of verification. The walk in verify.ts hands it every
 * accepted record and asks, at the end of each chunk (or where it stops with
 * a finding), whether the index disagrees with the entries so far.
 *
 * Inline, that is the driver's IndexChecker fed with the records' rows. With
 * a worker (a big log in a file, and the compiled worker beside this module)
 * the same checker runs on the second core over the worker's own connection:
 * it re-reads the entries, derives their rows and checks the index ahead of
 * this thread, which meanwhile hashes and rebuilds the tree. The answers are
 * the same: the worker says of its first problem how many entries a check
 * needs to find it, and how far it derived rows without an exception; the
 * walk asks only about entries it has passed. Whenever that is not enough to
 * answer exactly as inline (a row that throws, a worker that fails), the
 * walk starts over inline.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EventRecord } from '@stele/log';
import type { IndexChecker, IndexProblem, IndexRow, LogDriver } from './driver.js';
import { indexRowOf } from './indexRow.js';
import { readerSourceOf, type ReaderSource } from './readerSource.js';

/** What the walk needs of the index check. */
export interface IndexCheck {
  /** The record of the next entry, accepted by the walk. */
  add(record: EventRecord): void;
  /** The problem among the entries added since the chunk at `start` began (earlier ones were settled). */
  settle(start: number): Promise<IndexProblem | undefined>;
  /** After the last chunk: what the index holds beyond `size` entries, and its own consistency. */
  finish(size: number): Promise<IndexProblem | undefined>;
  close(): Promise<void>;
}

/** The worker could not answer; verification starts over on one thread. */
export class IndexWorkerFailed extends Error {}

/** When verification uses a worker. Internal; tests change it. */
export const workerSettings = {
  /** Smaller logs are checked inline: a worker takes tens of milliseconds to start. */
  minEntries: 32_768,
  /** The compiled worker; absent when running from TypeScript sources (tests), which then check inline. */
  script: new URL('./verifyIndexWorker.js', import.meta.url),
  /** Entries the worker reads at a time: small chunks keep its young garbage young (measured: 2,048 beats 8,192). */
  chunk: 2048,
};

/** What the worker is asked to do (its workerData). */
export interface IndexWork {
  source: ReaderSource;
  size: number;
  chunk: number;
  /** Set to 1 when the walk no longer needs answers: the worker stops between steps. */
  stop: Int32Array;
}

/**
 * What the worker reports. `progress` after every chunk; at most one
 * `problem` (the first, after which it goes on deriving rows but checks no
 * more); then `failed` where it stops early, or `finish` when all is checked.
 */
export type IndexMessage =
  | { kind: 'progress'; rows: number; checked: number } // rows of entries [0, rows) derived without an exception; [0, checked) agree with the index
  | { kind: 'problem'; problem: IndexProblem; needs: number } // the first problem; a check given `needs` entries finds it, one given fewer does not
  | { kind: 'failed'; at: number | null } // entry `at` is unreadable, or deriving its row threw; null: anything else. Nothing more follows
  | { kind: 'finish'; problem: IndexProblem | undefined }; // the answer of finish, after every entry was checked

/** The records' rows fed to the driver's checker on this thread, as verification always did. */
export function inlineIndexCheck(checker: IndexChecker): IndexCheck {
  let rows: IndexRow[] = [];
  return {
    add(record) {
      rows.push(indexRowOf(record));
    },
    settle(start) {
      const chunk = rows;
      rows = [];
      return checker.check(start, chunk);
    },
    finish: (size) => checker.finish(size),
    close: async () => undefined,
  };
}

/** A worker checking the index of the driver's store, or undefined when this driver or build has none. */
export function workerIndexCheck(driver: LogDriver, size: number): IndexCheck | undefined {
  const source = readerSourceOf(driver);
  if (!source || size < workerSettings.minEntries || !existsSync(fileURLToPath(workerSettings.script))) return undefined;
  // Stopped by asking, never by terminate(): a worker terminated while
  // better-sqlite3 throws an error takes the whole process down with it.
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(workerSettings.script, { workerData: { source, size, chunk: workerSettings.chunk, stop } satisfies IndexWork });
  let exited = false;
  let rows = 0;
  let checked = 0;
  let first: { problem: IndexProblem; needs: number } | undefined;
  let failedAt: number | null | undefined;
  let final: { problem: IndexProblem | undefined } | undefined;
  let wake: (() => void) | undefined;
  const changed = () => {
    wake?.();
    wake = undefined;
  };
  worker.on('message', (m: IndexMessage) => {
    if (m.kind === 'progress') ({ rows, checked } = m);
    else if (m.kind === 'problem') first = { problem: m.problem, needs: m.needs };
    else if (m.kind === 'failed') failedAt = m.at;
    else final = { problem: m.problem };
    changed();
  });
  worker.on('error', () => {
    failedAt ??= null;
    changed();
  });
  worker.on('exit', () => {
    exited = true;
    changed();
  });
  const next = () => new Promise<void>((resolve) => (wake = resolve));
  const give = (): never => {
    throw new IndexWorkerFailed('the index worker cannot answer');
  };

  /**
   * What checking the rows of entries [0, count) finds inline. Inline, the
   * row of every one of those entries was derived first, and deriving one can
   * throw: then the walk threw there, which only the walk itself can repeat.
   */
  async function problemBefore(count: number): Promise<IndexProblem | undefined> {
    for (;;) {
      if (failedAt === null || (failedAt !== undefined && failedAt < count)) give();
      if (rows >= count || failedAt !== undefined) {
        if (first) return first.needs <= count ? first.problem : undefined;
        if (checked >= count) return undefined;
      }
      if (exited) give();
      await next();
    }
  }

  let added = 0;
  return {
    add() {
      added++;
    },
    settle(start) {
      const count = start + added;
      added = 0;
      return problemBefore(count);
    },
    async finish(total) {
      const problem = await problemBefore(total);
      if (problem) return problem;
      while (!final) {
        if (failedAt !== undefined || exited) give();
        await next();
      }
      return final.problem;
    },
    async close() {
      Atomics.store(stop, 0, 1);
      while (!exited) await next();
    },
  };
}
