/**
 * The archive's local variant, `--to file:///path` (a mounted WORM volume),
 * through the real binary: the files of `stele export` written read-only with
 * the retention date as atime, a rerun that adds only what is new, the
 * collector's continuous archive, `stele verify --archive` on its own, and
 * tampering that verify catches. No S3 server needed: these always run.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openStore } from '@stele/store';
import { BIN, removeTempDirs, requireBuild, seedLog, stele, steleJson, tempDir } from './helpers.js';

const DAY = 86_400_000;

beforeAll(requireBuild);
afterAll(removeTempDirs);

function filesUnder(dir: string): Map<string, { bytes: Buffer; mode: number; atime: number }> {
  const out = new Map<string, { bytes: Buffer; mode: number; atime: number }>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      const info = statSync(full);
      if (info.isDirectory()) walk(full);
      else out.set(relative(dir, full), { bytes: readFileSync(full), mode: info.mode & 0o777, atime: info.atimeMs });
    }
  };
  walk(dir);
  return out;
}

test('archives to a directory: the files of stele export, read-only, retention in atime; a rerun adds only what is new', async () => {
  const dir = join(tempDir('archive-file'), 'log');
  const { verifierKey } = await seedLog(dir, 700, { origin: 'example.com/archive-file' });
  const worm = tempDir('worm');
  const first = await steleJson(['archive', '--dir', dir, '--to', `file://${worm}`, '--retention-days', '30', '--json']);
  expect({ code: first.code, ...first.json }).toMatchObject({ code: 0, size: 700, created: 8, existing: 0, published: false, lock: { mode: 'COMPLIANCE' } });

  const out = join(tempDir('archive-file-export'), 'tiles');
  expect((await stele(['export', '--dir', dir, '--out', out])).code).toBe(0);
  const exported = filesUnder(out);
  const archived = filesUnder(worm);
  // The same files as the export (whose `checkpoint` the archive keeps as checkpoints/700: no file is ever replaced).
  expect(new Set(archived.keys())).toEqual(new Set([...[...exported.keys()].filter((k) => k !== 'checkpoint'), 'checkpoints/700']));
  for (const [path, file] of archived) {
    expect({ path, same: file.bytes.equals(exported.get(path === 'checkpoints/700' ? 'checkpoint' : path)!.bytes) }).toEqual({ path, same: true });
    expect({ path, mode: file.mode }).toEqual({ path, mode: 0o444 });
    expect(file.atime).toBeGreaterThan(Date.now() + 29 * DAY);
  }

  await seedLog(dir, 300, { from: 700 });
  const second = await steleJson(['archive', '--dir', dir, '--to', `file://${worm}`, '--retention-days', '30', '--json']);
  expect({ code: second.code, ...second.json }).toMatchObject({ code: 0, size: 1000, from: 700, existing: 0 });
  // Nothing that was there changed.
  const after = filesUnder(worm);
  for (const [path, file] of archived) expect({ path, same: after.get(path)!.bytes.equals(file.bytes) }).toEqual({ path, same: true });

  const verified = await steleJson(['verify', '--archive', `file://${worm}`, '--key', verifierKey, '--json']);
  expect({ code: verified.code, ...verified.json }).toMatchObject({ code: 0, ok: true, size: 1000, checkpoints: 2, objects: after.size, pending: 0 });
  const older = await steleJson(['verify', '--archive', `file://${worm}`, '--key', verifierKey, '--size', '700', '--json']);
  expect({ code: older.code, ...older.json }).toMatchObject({ code: 0, ok: true, size: 700, checkpoints: 1 });
});

test('verify --archive fails (exit 1) on a changed file, with the wrong key, and on an empty archive; bad usage is exit 2', async () => {
  const dir = join(tempDir('archive-file-tamper'), 'log');
  const { verifierKey } = await seedLog(dir, 300, { origin: 'example.com/archive-tamper' });
  const worm = tempDir('worm-tamper');
  expect((await stele(['archive', '--dir', dir, '--to', `file://${worm}`])).code).toBe(0);

  // Root ignores the read-only mode; on a real WORM volume this write is refused by the volume.
  const file = join(worm, 'tile/entries/000');
  chmodSync(file, 0o644);
  const bytes = readFileSync(file);
  bytes[bytes.length - 2]! ^= 1;
  writeFileSync(file, bytes);
  const tampered = await steleJson(['verify', '--archive', `file://${worm}`, '--key', verifierKey, '--json']);
  expect({ code: tampered.code, ok: tampered.json.ok, failed: tampered.json.code }).toEqual({ code: 1, ok: false, failed: 'ERR_ROOT_MISMATCH' });

  const other = await steleJson(['init', '--dir', join(tempDir('archive-other-key'), 'log'), '--origin', 'example.com/archive-tamper', '--json']);
  const wrongKey = await steleJson(['verify', '--archive', `file://${worm}`, '--key', String(other.json.verifierKey), '--json']);
  expect({ code: wrongKey.code, failed: wrongKey.json.code }).toEqual({ code: 1, failed: 'ERR_NOTE_UNVERIFIED' });

  const empty = await steleJson(['verify', '--archive', `file://${tempDir('worm-empty')}`, '--key', verifierKey, '--json']);
  expect({ code: empty.code, failed: empty.json.code }).toEqual({ code: 1, failed: 'ERR_ARCHIVE_EMPTY' });

  expect((await stele(['verify', '--archive', `file://${worm}`])).code).toBe(2); // no --key
  expect((await stele(['verify', '--archive', 'ftp://example.com/x', '--key', verifierKey])).code).toBe(2);
  expect((await stele(['archive', '--dir', dir])).code).toBe(2); // no --to
  expect((await stele(['archive', '--dir', dir, '--to', `file://${worm}`, '--mode', 'STRICT'])).code).toBe(2);
  const missing = await steleJson(['archive', '--dir', dir, '--to', `file://${join(worm, 'not-mounted')}`, '--json']);
  expect({ code: missing.code, error: (missing.json as { error: { code: string } }).error.code }).toEqual({ code: 2, error: 'ERR_ARCHIVE_UNREACHABLE' });
});

test('a file that differs from the log where the archive must write is a conflict (exit 1) and is left as it is', async () => {
  const dir = join(tempDir('archive-file-conflict'), 'log');
  await seedLog(dir, 100, { origin: 'example.com/archive-conflict' });
  const worm = tempDir('worm-conflict');
  expect((await stele(['archive', '--dir', dir, '--to', `file://${worm}`])).code).toBe(0);
  await seedLog(dir, 200, { from: 100 });
  // Before the next run, someone put other bytes at a path the tree of 300 needs (tile/entries/001.p/44).
  mkdirSync(join(worm, 'tile/entries/001.p'), { recursive: true });
  writeFileSync(join(worm, 'tile/entries/001.p/44'), 'not the log');
  const key = readFileSync(join(dir, 'verifier.key'), 'utf8').trim();
  const before = await steleJson(['verify', '--archive', `file://${worm}`, '--key', key, '--json']);
  expect({ code: before.code, pending: before.json.pending }).toEqual({ code: 0, pending: 1 }); // beyond every archived tree
  const result = await steleJson(['archive', '--dir', dir, '--to', `file://${worm}`, '--json']);
  expect({ code: result.code, error: (result.json as { error: { code: string } }).error.code }).toEqual({ code: 1, error: 'ERR_ARCHIVE_CONFLICT' });
  expect(readFileSync(join(worm, 'tile/entries/001.p/44'), 'utf8')).toBe('not the log');
  expect(existsSync(join(worm, 'checkpoints/300'))).toBe(false);
});

test('stele serve archives continuously to a directory and a last time at SIGTERM', async () => {
  const dir = join(tempDir('archive-serve-file'), 'log');
  const worm = tempDir('worm-serve');
  const env: NodeJS.ProcessEnv = { ...process.env, STELE_ARCHIVE_TO: `file://${worm}`, STELE_ARCHIVE_CADENCE_SECONDS: '3600', STELE_LOG_LEVEL: 'warn' };
  delete env.STELE_DIR;
  const child = spawn(process.execPath, [BIN, 'serve', '--dir', dir, '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      const match = /listening on (http:\/\/[^\s]+) /.exec(stderr);
      if (match) resolve(match[1]!);
    });
    void exited.then(() => reject(new Error(stderr)));
  });
  const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
  const events = Array.from({ length: 300 }, (_, i) => ({ id: `e${i}`, source: 'emacs', action: 'file.save', actor: { id: 'ada' }, target: { type: 'file', id: `/f${i}` } }));
  const res = await fetch(`${url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(events) });
  expect(res.status).toBe(201);
  child.kill('SIGTERM');
  expect(await exited).toBe(0);

  const store = await openStore(dir, { mode: 'read' });
  const size = store.log.size();
  await store.log.close();
  const key = readFileSync(join(dir, 'verifier.key'), 'utf8').trim();
  const verified = await steleJson(['verify', '--archive', `file://${worm}`, '--key', key, '--json']);
  expect({ code: verified.code, ok: verified.json.ok, size: verified.json.size }).toEqual({ code: 0, ok: true, size });
});
