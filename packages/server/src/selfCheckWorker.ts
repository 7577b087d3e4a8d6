/**
 * The worker thread of the collector's self-check (selfCheck.ts): opens the
 * log read-only, as `stele verify` does, verifies all of it on this one
 * thread and posts the result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openForAudit, verifyLog } from '@stele/store';
import type { SelfCheckReply } from './selfCheck.js';

const { dir } = workerData as { dir: string };
let reply: SelfCheckReply;
try {
  const store = await openForAudit(dir);
  try {
    reply = { result: await verifyLog({ driver: store.driver, verifier: store.verifier, origin: store.origin, threads: 1 }) };
  } finally {
    await store.driver.close();
  }
} catch (err) {
  reply = { error: err instanceof Error ? err.message : String(err) };
}
parentPort!.postMessage(reply);
