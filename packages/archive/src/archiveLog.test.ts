import { afterEach, expect, test } from 'vitest';
import { bundlesForSize, entriesPath, fromUtf8, tilePath, tilesForSize } from '@stele/log';
import { createArchiver, type ArchiverOptions } from './archiveLog.js';
import { LATEST_PATH, checkpointPath, objectsBetween } from './layout.js';
import { openMemoryTarget, type MemoryTarget } from './memoryTarget.js';
import { logSource } from './source.js';
import { codeOf, testLog, type TestLog } from './testLog.js';

const LOCK = { mode: 'COMPLIANCE' as const, retainUntil: new Date(Date.UTC(2030, 0, 1)) };
const logs: TestLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.remove();
});

async function newLog(size: number, origin?: string): Promise<TestLog> {
  const log = await testLog(size, origin);
  logs.push(log);
  return log;
}

const archiverFor = (log: TestLog, target: MemoryTarget, extra: Partial<ArchiverOptions> = {}) =>
  createArchiver({ source: logSource(log.store.log), target, verifier: log.store.verifier, lock: () => LOCK, concurrency: 3, ...extra });

const exportPaths = (size: number) => [...bundlesForSize(size).map((b) => entriesPath(b.index, b.width)), ...tilesForSize(size).map(tilePath)];

test('a first run writes the files of stele export, then checkpoints/<size>, then the well-known checkpoint, all locked', async () => {
  const log = await newLog(700);
  const target = openMemoryTarget();
  const cycle = await archiverFor(log, target).run();
  expect(cycle).toMatchObject({ size: 700, from: 0, created: exportPaths(700).length + 1, existing: 0, checkpoint: 'checkpoints/700', published: true });
  expect(new Set(target.versions.keys())).toEqual(new Set([...exportPaths(700), checkpointPath(700), LATEST_PATH]));
  for (const [path, versions] of target.versions) expect({ path, versions: versions.length }).toEqual({ path, versions: 1 });
  const creates = target.calls.filter((c) => c.op === 'create');
  expect(creates.every((c) => c.lock === LOCK)).toBe(true);
  // Every tile file before the checkpoint that covers it.
  expect(creates.at(-1)!.path).toBe(checkpointPath(700));
  expect(fromUtf8(target.versions.get(LATEST_PATH)![0]!)).toBe(log.store.log.checkpoint());
  expect(fromUtf8(target.versions.get(checkpointPath(700))![0]!)).toBe(log.store.log.checkpoint());
});

test('later cycles write only what the grown tree adds; an idle cycle writes nothing', async () => {
  const log = await newLog(300);
  const target = openMemoryTarget();
  const archiver = archiverFor(log, target);
  await archiver.run();
  await log.grow(500);
  const before = target.calls.length;
  const cycle = await archiver.run();
  const creates = target.calls.slice(before).filter((c) => c.op === 'create');
  expect(creates.map((c) => c.path).sort()).toEqual([...objectsBetween(300, 800).map((o) => o.path), checkpointPath(800)].sort());
  expect(cycle).toMatchObject({ size: 800, from: 300, existing: 0, published: true });
  expect(target.versions.get(LATEST_PATH)!.length).toBe(2);

  const idle = target.calls.length;
  expect(await archiver.run()).toMatchObject({ size: 800, created: 0, existing: 0, published: false });
  expect(target.calls.slice(idle)).toEqual([]);
});

test('after a crash mid-archive a new archiver resumes from the target: nothing rewritten, nothing written twice', async () => {
  const log = await newLog(3000);
  const target = openMemoryTarget();
  target.failAfter(9);
  expect(await codeOf(archiverFor(log, target).run())).toBe('ERR_ARCHIVE_WRITE');
  const left = new Set(target.versions.keys());
  expect(left.size).toBe(9);
  expect(left.has(checkpointPath(3000))).toBe(false);

  target.failAfter(Infinity);
  const before = target.calls.length;
  const cycle = await archiverFor(log, target).run();
  const creates = target.calls.slice(before).filter((c) => c.op === 'create');
  // What the crash left is compared, not rewritten: no checkpoint vouched for it yet.
  expect(creates.filter((c) => left.has(c.path!)).map((c) => c.result)).toEqual(Array(9).fill('exists'));
  expect(cycle).toMatchObject({ size: 3000, existing: 9, created: exportPaths(3000).length + 1 - 9 });
  for (const [path, versions] of target.versions) expect({ path, versions: versions.length }).toEqual({ path, versions: 1 });
});

test("an archive of another log, or one ahead of the log (a rollback), is refused with ERR_ARCHIVE_DIVERGED", async () => {
  const a = await newLog(400, 'example.com/a');
  const target = openMemoryTarget();
  await archiverFor(a, target).run();
  const other = await newLog(500, 'example.com/b');
  expect(await codeOf(archiverFor(other, target).run())).toBe('ERR_ARCHIVE_DIVERGED');

  const small = await newLog(100, 'example.com/c');
  const ahead = openMemoryTarget();
  await small.grow(300);
  await archiverFor(small, ahead).run();
  // The same log's key, but a log that lost its last 300 entries: copy the archive state onto a fresh log of size 100.
  const rolledBack = await newLog(100, 'example.com/c');
  expect(await codeOf(archiverFor(rolledBack, ahead, { verifier: small.store.verifier }).run())).toBe('ERR_ARCHIVE_DIVERGED');
});

test('an object that appeared with other bytes than the log has is a conflict, never overwritten', async () => {
  const log = await newLog(100);
  const target = openMemoryTarget();
  const archiver = archiverFor(log, target);
  await archiver.run();
  await log.grow(10);
  const next = objectsBetween(100, 110)[0]!;
  target.versions.set(next.path, [new Uint8Array([1, 2, 3])]);
  expect(await codeOf(archiver.run())).toBe('ERR_ARCHIVE_CONFLICT');
  expect(target.versions.get(next.path)).toEqual([new Uint8Array([1, 2, 3])]);
});

test('an empty log archives nothing; a target without publish gets no well-known checkpoint', async () => {
  const empty = await newLog(0);
  const target = openMemoryTarget({ publish: false });
  expect(await archiverFor(empty, target).run()).toMatchObject({ size: 0, created: 0 });
  expect(target.versions.size).toBe(0);
  await empty.grow(5);
  await archiverFor(empty, target).run();
  expect(target.versions.has(LATEST_PATH)).toBe(false);
  expect(target.versions.has(checkpointPath(5))).toBe(true);
});

test('latest: false leaves the well-known checkpoint alone', async () => {
  const log = await newLog(5);
  const target = openMemoryTarget();
  await archiverFor(log, target, { latest: false }).run();
  expect(target.versions.has(LATEST_PATH)).toBe(false);
});

test('a resumed run skips what the newest archived checkpoint vouches for, and compares the rest', async () => {
  const log = await newLog(600);
  const target = openMemoryTarget();
  await archiverFor(log, target).run();
  await log.grow(400);
  // An interrupted run at 1000 left one file; another one, with other bytes, appeared at a path 1000 needs.
  const [leftover, foreign] = objectsBetween(600, 1000);
  await target.create(leftover!.path, await logSource(log.store.log).read(leftover!), LOCK);
  target.versions.set(foreign!.path, [new Uint8Array([9])]);
  const before = target.calls.length;
  expect(await codeOf(archiverFor(log, target).run())).toBe('ERR_ARCHIVE_CONFLICT');
  const touched = target.calls.slice(before).filter((c) => c.op === 'create').map((c) => c.path);
  expect(touched.filter((p) => objectsBetween(0, 600).some((o) => o.path === p))).toEqual([]);
  expect(target.versions.get(foreign!.path)).toEqual([new Uint8Array([9])]);
});
