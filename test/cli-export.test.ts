/**
 * `stele export` into a directory that already holds an export: it extends
 * an earlier export of the same log, and refuses (exit 2, one line, nothing
 * written) another log's tiles, a rolled-back copy of the log, a fork of it,
 * and a file where the log would write other bytes.
 */
import { cpSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { removeTempDirs, requireBuild, seedLog, stele, steleJson, tempDir } from './helpers.js';

beforeAll(requireBuild);
afterAll(removeTempDirs);

/** Every file under `root` with its bytes, by relative path. */
function snapshot(root: string): Map<string, Buffer> {
  const paths = (readdirSync(root, { recursive: true }) as string[]).filter((p) => statSync(join(root, p)).isFile()).sort();
  return new Map(paths.map((p) => [p, readFileSync(join(root, p))]));
}

/** A new log of `count` seeded events. */
async function newLog(origin: string, count: number): Promise<string> {
  const dir = join(tempDir('export-log'), 'log');
  await seedLog(dir, count, { origin });
  return dir;
}

/** A copy of a (closed) log's data directory. */
function copyLog(dir: string): string {
  const copy = join(tempDir('export-copy'), 'log');
  cpSync(dir, copy, { recursive: true });
  return copy;
}

/** Exports `dir` to `out`; expects success. */
async function exportOk(dir: string, out: string): Promise<{ size: number; written: number; skipped: number }> {
  const { code, json, stderr } = await steleJson<{ size: number; written: number; skipped: number }>(['export', '--dir', dir, '--out', out, '--json']);
  expect(code, stderr).toBe(0);
  return json;
}

/** Exports `dir` to `out`; expects a one-line refusal naming `out` that leaves `out` as it was. Returns the message. */
async function exportRefused(dir: string, out: string): Promise<string> {
  const before = snapshot(out);
  const { code, stdout, stderr } = await stele(['export', '--dir', dir, '--out', out]);
  expect(code, stderr).toBe(2);
  expect(stdout).toBe('');
  expect(stderr).toMatch(/^stele export: [^\n]+\n$/);
  expect(stderr).toContain(out);
  expect(snapshot(out)).toEqual(before);
  return stderr;
}

describe('export into a directory that holds an earlier export', () => {
  test("another log's tiles are refused, naming both origins", async () => {
    const a = await newLog('example.com/audit', 8);
    const b = await newLog('example.org/other', 30);
    const out = join(tempDir('tiles'), 'tiles');
    await exportOk(a, out);
    const message = await exportRefused(b, out);
    expect(message).toContain('example.com/audit');
    expect(message).toContain('example.org/other');
  });

  test('a log with the same origin but another key is refused', async () => {
    const a = await newLog('example.com/audit', 8);
    const impostor = await newLog('example.com/audit', 10);
    const out = join(tempDir('tiles'), 'tiles');
    await exportOk(a, out);
    expect(await exportRefused(impostor, out)).toContain("not signed by this log's key");
  });

  test('a rolled-back copy of the log is refused, naming both sizes', async () => {
    const log = await newLog('example.com/audit', 300);
    const old = copyLog(log);
    await seedLog(log, 50, { from: 300 });
    const out = join(tempDir('tiles'), 'tiles');
    await exportOk(log, out);
    const message = await exportRefused(old, out);
    expect(message).toContain('350');
    expect(message).toContain('300');
  });

  test('a fork (the same prefix, then other events) is refused, whether longer or shorter', async () => {
    const prefix = await newLog('example.com/audit', 300);
    const left = copyLog(prefix);
    const right = copyLog(prefix);
    await seedLog(left, 50, { from: 300 });
    await seedLog(right, 80, { from: 1000 });
    const out = join(tempDir('tiles'), 'tiles');
    await exportOk(left, out);
    expect(await exportRefused(right, out)).toContain('forked');
    const out2 = join(tempDir('tiles'), 'tiles');
    await exportOk(right, out2);
    await exportRefused(left, out2);
    // The common prefix itself is behind both: refused too.
    await exportRefused(prefix, out);
  });

  test('a file where the log would write other bytes is refused, even with no checkpoint there', async () => {
    const log = await newLog('example.com/audit', 8);
    const out = join(tempDir('tiles'), 'tiles');
    mkdirSync(join(out, 'tile/entries/000.p'), { recursive: true });
    writeFileSync(join(out, 'tile/entries/000.p/8'), 'not these entries');
    const message = await exportRefused(log, out);
    expect(message).toContain('tile/entries/000.p/8');
    expect(message).toContain("another log's export, or a damaged one");
  });

  test("a damaged file beyond this log's own checkpoint there is called damaged, not another log's", async () => {
    const log = await newLog('example.com/audit', 300);
    const out = join(tempDir('tiles'), 'tiles');
    const first = join(tempDir('tiles'), 'first');
    await exportOk(log, first);
    await seedLog(log, 300, { from: 300 });
    await exportOk(log, out);
    // The earlier export's checkpoint (size 300), with a bundle only the larger log has, damaged.
    cpSync(join(first, 'checkpoint'), join(out, 'checkpoint'));
    writeFileSync(join(out, 'tile/entries/002.p/88'), 'not these entries');
    const message = await exportRefused(log, out);
    expect(message).toContain('tile/entries/002.p/88');
    expect(message).toContain("its checkpoint is this log's at size 300, which does not cover this file");
  });

  test('the same log that grew is exported incrementally, a re-run with no change writes nothing, and verify --against passes', async () => {
    const log = await newLog('example.com/audit', 300);
    const out = join(tempDir('tiles'), 'tiles');
    expect(await exportOk(log, out)).toEqual({ out, size: 300, written: 6, skipped: 0 });
    const full = statSync(join(out, 'tile/0/000'));

    await seedLog(log, 300, { from: 300 });
    // New: entries/001, entries/002.p/88, tile/0/001, tile/0/002.p/88, tile/1/000.p/2, the checkpoint.
    expect(await exportOk(log, out)).toEqual({ out, size: 600, written: 6, skipped: 2 });
    expect(statSync(join(out, 'tile/0/000')).mtimeMs).toBe(full.mtimeMs);

    const before = snapshot(out);
    const checkpointTime = statSync(join(out, 'checkpoint')).mtimeMs;
    expect(await exportOk(log, out)).toEqual({ out, size: 600, written: 0, skipped: 8 });
    expect(snapshot(out)).toEqual(before);
    expect(statSync(join(out, 'checkpoint')).mtimeMs).toBe(checkpointTime);

    const verified = await stele(['verify', '--dir', log, '--against', join(out, 'checkpoint')]);
    expect(verified.code, verified.stdout).toBe(0);
  });

  test('an --out where no directory can be made (under /proc) is refused with exit 2, one line, rather than spinning', async () => {
    const log = await newLog('example.com/proc', 3);
    const { code, stdout, stderr } = await stele(['export', '--dir', log, '--out', '/proc/stele-export-test']);
    expect({ code, stdout, lines: stderr.trimEnd().split('\n').length }).toEqual({ code: 2, stdout: '', lines: 1 });
    expect(stderr).toMatch(/^stele export: --out: cannot write \/proc\/stele-export-test\/\S+: ENOENT\n$/);
  });
});
