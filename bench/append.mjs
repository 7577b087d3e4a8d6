// Durable appends through the real log service: initStore + openStore, then
// log.append with sequential awaits (one call in flight) or with many
// concurrent callers sharing group commits.
import { randomUUID } from 'node:crypto';
import { initStore, openStore } from '../packages/store/dist/index.js';
import { benchEvent } from './events.mjs';
import { cpuPerEvent, now, tempDir, threadCpu } from './lib.mjs';

const ORIGIN = 'bench.example/stele';

/** A fresh log in a new directory. */
export async function freshLog(name) {
  const dir = tempDir(name);
  await initStore(dir, ORIGIN);
  return { dir, store: await openStore(dir) };
}

/**
 * Appends `total` events in calls of `batch`, one call at a time; events are
 * built outside the timed part. Returns events per second and the directory
 * (the log is closed).
 */
export async function sequentialAppend(batch, total, first = 0) {
  const { dir, store } = await freshLog(`append-${batch}`);
  let elapsed = 0;
  for (let i = first; i < first + total; i += batch) {
    const events = [];
    for (let k = i; k < Math.min(i + batch, first + total); k++) events.push(benchEvent(k));
    const t = now();
    await store.log.append(events);
    elapsed += now() - t;
  }
  await store.log.close();
  return { rate: total / (elapsed / 1000), dir };
}

/** `callers` concurrent appenders of one event each, `total` events in all. */
export async function concurrentAppend(callers, total) {
  const { dir, store } = await freshLog(`concurrent-${callers}`);
  const events = Array.from({ length: total }, (_, i) => benchEvent(i));
  let next = 0;
  let commits = new Set();
  const caller = async () => {
    while (next < total) {
      const result = await store.log.append([events[next++]]);
      commits.add(result.size);
    }
  };
  const t = now();
  await Promise.all(Array.from({ length: callers }, caller));
  const elapsed = now() - t;
  await store.log.close();
  return { rate: total / (elapsed / 1000), dir, commits: commits.size };
}

/**
 * Appends `total` events in calls of `batch` from `callers` callers at once
 * (a collector serving several sources): while one group commit is being
 * written on the writer thread the next is sequenced. Events are built
 * before the clock starts.
 */
export async function parallelAppend(batch, total, callers, { randomIds = false } = {}) {
  const { dir, store } = await freshLog(`append-${batch}x${callers}`);
  const calls = [];
  for (let i = 0; i < total; i += batch) {
    const events = [];
    for (let k = i; k < Math.min(i + batch, total); k++) {
      const event = benchEvent(k);
      // Random ids, as most sources send (CloudTrail's eventID, Kubernetes' auditID): each lands anywhere in the id index.
      if (randomIds) event.id = randomUUID();
      events.push(event);
    }
    calls.push(events);
  }
  let next = 0;
  const caller = async () => {
    while (next < calls.length) await store.log.append(calls[next++]);
  };
  const cpu = threadCpu();
  const t = now();
  await Promise.all(Array.from({ length: callers }, caller));
  const elapsed = now() - t;
  const cpuMicros = cpuPerEvent(cpu, threadCpu(), total);
  await store.log.close();
  return { rate: total / (elapsed / 1000), dir, cpuMicros };
}
