import { afterEach, expect, test } from 'vitest';
import { createArchiver, type ArchiveCycle } from './archiveLog.js';
import { checkpointPath } from './layout.js';
import { openMemoryTarget } from './memoryTarget.js';
import { logSource } from './source.js';
import { startArchiveTask } from './task.js';
import { testLog, type TestLog } from './testLog.js';

const logs: TestLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.remove();
});

test('the task archives at once, on demand, and a last time when stopped; a failed cycle is reported, not thrown', async () => {
  const log = await testLog(20);
  logs.push(log);
  const target = openMemoryTarget();
  const cycles: ArchiveCycle[] = [];
  const errors: unknown[] = [];
  const archiver = createArchiver({ source: logSource(log.store.log), target, verifier: log.store.verifier, lock: () => undefined });
  // A cadence far beyond the test: only the first, the requested and the final cycles run.
  const task = startArchiveTask({ archiver, cadenceMs: 3_600_000, onCycle: (c) => cycles.push(c), onError: (e) => errors.push(e) });

  await log.grow(5);
  expect((await task.runNow()).size).toBe(25);
  target.failAfter(0);
  await log.grow(5);
  await expect(task.runNow()).rejects.toMatchObject({ code: 'ERR_ARCHIVE_WRITE' });
  target.failAfter(Infinity);
  await log.grow(5);
  await task.stop();

  expect(cycles.map((c) => c.size)).toEqual([20, 25, 35]);
  expect(errors.map((e) => (e as { code: string }).code)).toEqual(['ERR_ARCHIVE_WRITE']);
  expect(target.versions.has(checkpointPath(35))).toBe(true);
  expect(target.versions.has(checkpointPath(30))).toBe(false);
});
