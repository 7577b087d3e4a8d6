/**
 * The worker of verifyParallel.ts: takes chunks from the shared counter and
 * checks them over its own connection (verifyChunk.ts), posting each result,
 * until none is left or the walk asks it to stop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { checkChunk, workOf } from './verifyChunk.js';
import type { PoolMessage, PoolWork } from './verifyParallel.js';
import { sqliteChunkSource } from './verifySource.js';
import { hexHasherOf } from './verifyTree.js';

const post = (message: PoolMessage): void => parentPort!.postMessage(message);

async function main(): Promise<void> {
  const work = workerData as PoolWork;
  const source = sqliteChunkSource(work.source);
  try {
    post({ kind: 'integrity', problem: await source.integrity() });
    const hx = hexHasherOf(undefined);
    const chunks = Math.ceil(work.size / 2 ** work.level);
    while (Atomics.load(work.stop, 0) === 0) {
      const chunk = Atomics.add(work.next, 0, 1);
      if (chunk >= chunks) break;
      post({ kind: 'chunk', chunk, result: await checkChunk(source, hx, workOf(chunk, work.level, work.size, work.sizes)) });
    }
    post({ kind: 'done' });
  } finally {
    source.close();
  }
}

main().catch((err: unknown) => post({ kind: 'failed', message: String(err) }));
