import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { initStore, openStore, type Store } from '@stele/store';
import { collectorActor, lostRun, recordAdmin } from './audit.js';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stele-audit-'));
  await initStore(dir, 'example.com/audit');
  store = await openStore(dir);
});

afterEach(async () => {
  await store.log.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The id of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid!;
}

const start = (pid: number) => recordAdmin(store.log, 'collector.start', { actor: collectorActor(), details: { pid } });
const stop = (pid: number) => recordAdmin(store.log, 'collector.stop', { actor: collectorActor(), details: { pid } });

describe('lostRun: the previous collector on this host, when it never recorded its stop', () => {
  test('a run whose process is gone without collector.stop is lost, once', async () => {
    const pid = deadPid();
    const index = await start(pid);
    await recordAdmin(store.log, 'token.create', { actor: collectorActor() });
    const lost = await lostRun(store.log);
    expect(lost).toMatchObject({ startIndex: index, pid });
    expect(lost!.started).toMatch(/^\d{4}-\d\d-\d\dT/);
    // Said once: a lost event for that start settles it.
    await recordAdmin(store.log, 'collector.lost', { actor: collectorActor(), details: { ...lost } });
    expect(await lostRun(store.log)).toBeUndefined();
  });

  test('a run that recorded its stop is not lost, nor is one whose process still runs', async () => {
    const pid = deadPid();
    await start(pid);
    await stop(pid);
    expect(await lostRun(store.log)).toBeUndefined();
    // Another collector on this host, still running (this test's parent process stands in for it).
    await start(process.ppid);
    expect(await lostRun(store.log)).toBeUndefined();
  });

  test("another host's runs are that host's business", async () => {
    await store.log.append([{ source: 'stele', action: 'collector.start', actor: collectorActor(), outcome: 'success', host: `not-${hostname()}`, details: { pid: deadPid() } }]);
    expect(await lostRun(store.log)).toBeUndefined();
  });
});
