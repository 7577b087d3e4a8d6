import { afterEach, expect, test } from 'vitest';
import { createVerifier, generateSignerKey } from '@stele/log';
import { nodeHasher } from '@stele/store';
import { createArchiver } from './archiveLog.js';
import { LATEST_PATH, checkpointPath, objectsBetween } from './layout.js';
import { openMemoryTarget, type MemoryTarget } from './memoryTarget.js';
import { logSource } from './source.js';
import { testLog, type TestLog } from './testLog.js';
import { verifyArchive } from './verifyArchive.js';

const logs: TestLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.remove();
});

/** A log archived at each of `sizes` in turn (a cycle per size). */
async function archivedAt(sizes: number[]): Promise<{ log: TestLog; target: MemoryTarget }> {
  const log = await testLog(sizes[0]!);
  logs.push(log);
  const target = openMemoryTarget();
  const archiver = createArchiver({ source: logSource(log.store.log), target, verifier: log.store.verifier, lock: () => undefined });
  for (const [i, size] of sizes.entries()) {
    if (i > 0) await log.grow(size - sizes[i - 1]!);
    await archiver.run();
  }
  return { log, target };
}

const verify = (log: TestLog, target: MemoryTarget, size?: number) =>
  verifyArchive({ reader: target, verifier: log.store.verifier, hasher: nodeHasher, ...(size === undefined ? {} : { size }) });

/** Replaces the current bytes at a path, as an attacker with write access to an unlocked store would. */
function overwrite(target: MemoryTarget, path: string, edit: (bytes: Uint8Array) => Uint8Array): void {
  const versions = target.versions.get(path)!;
  versions[versions.length - 1] = edit(versions.at(-1)!.slice());
}

/** Flips a bit of the last hash or entry byte, or of a checkpoint's root (its body stays well formed). */
const flip = (path: string) => (bytes: Uint8Array) => {
  const at = path.startsWith('checkpoint') ? bytes.indexOf(0x0a, bytes.indexOf(0x0a) + 1) + 2 : bytes.length - 1;
  bytes[at]! ^= 1;
  return bytes;
};

test('an archive built over several cycles verifies: every checkpoint, every tile, every older partial', async () => {
  const { log, target } = await archivedAt([10, 300, 700]);
  const result = await verify(log, target);
  const all = target.versions.size;
  expect(result).toMatchObject({ ok: true, size: 700, checkpoints: 3, pending: 0, unknown: 0, objects: all });
  // As of an older archived size too; what came later is pending.
  expect(await verify(log, target, 300)).toMatchObject({ ok: true, size: 300, checkpoints: 2 });
});

test('a changed entry bundle, hash tile, older partial tile or older checkpoint fails with the log core codes', async () => {
  const cases: [string, string][] = [
    ['tile/entries/000', 'ERR_ROOT_MISMATCH'],
    ['tile/0/002.p/188', 'ERR_ROOT_MISMATCH'],
    ['tile/0/001.p/44', 'ERR_ROOT_MISMATCH'], // a partial tile of the tree of 300
    [checkpointPath(10), 'ERR_NOTE_UNVERIFIED'],
    [LATEST_PATH, 'ERR_NOTE_UNVERIFIED'],
  ];
  for (const [path, code] of cases) {
    const { log, target } = await archivedAt([10, 300, 700]);
    expect(target.versions.has(path), path).toBe(true);
    overwrite(target, path, flip(path));
    expect(await verify(log, target), path).toMatchObject({ ok: false, code });
  }
});

test('a missing file, a forged extra checkpoint and a truncated partial are caught', async () => {
  const { log, target } = await archivedAt([300, 700]);
  target.versions.delete('tile/entries/001');
  expect(await verify(log, target)).toMatchObject({ ok: false, code: 'ERR_TILE_MALFORMED' });

  // A real checkpoint, but under a name that claims another size.
  const forged = await archivedAt([300, 700]);
  forged.target.versions.set(checkpointPath(500), [forged.target.versions.get(checkpointPath(300))![0]!]);
  expect(await verify(forged.log, forged.target)).toMatchObject({ ok: false, code: 'ERR_ARCHIVE_CORRUPT', path: checkpointPath(500) });

  const cut = await archivedAt([300, 700]);
  overwrite(cut.target, 'tile/0/001.p/44', (b) => b.subarray(0, b.length - 32));
  expect(await verify(cut.log, cut.target)).toMatchObject({ ok: false, code: 'ERR_TILE_MALFORMED', path: 'tile/0/001.p/44' });
});

test("another key, an empty archive, an unarchived size; leftovers of an interrupted run are pending", async () => {
  const { log, target } = await archivedAt([300]);
  const stranger = await createVerifier((await generateSignerKey(log.store.log.origin)).verifierKey);
  expect(await verifyArchive({ reader: target, verifier: stranger, hasher: nodeHasher })).toMatchObject({ ok: false, code: 'ERR_NOTE_UNVERIFIED' });
  expect(await verify(log, openMemoryTarget())).toMatchObject({ ok: false, code: 'ERR_ARCHIVE_EMPTY' });
  expect(await verify(log, target, 299)).toMatchObject({ ok: false, code: 'ERR_ARCHIVE_EMPTY' });

  // Tiles of the tree of 900 written, its checkpoint not yet: not part of any archived tree.
  await log.grow(600);
  for (const o of objectsBetween(300, 900)) await target.create(o.path, await logSource(log.store.log).read(o), undefined);
  expect(await verify(log, target)).toMatchObject({ ok: true, size: 300, pending: objectsBetween(300, 900).length });
});
