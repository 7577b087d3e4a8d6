import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { hasStore, initStore, openForAudit, openStore } from './dataDir.js';
import { parseRecord } from './log.js';

/** Root reads and writes through any mode bits: the chmod cases need another user. */
const isRoot = process.getuid?.() === 0;

let base: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'stele-datadir-'));
});

afterEach(() => {
  chmodSync(base, 0o700);
  for (const name of readdirSync(base)) {
    const path = join(base, name);
    if (statSync(path).isDirectory()) chmodSync(path, 0o700);
  }
  rmSync(base, { recursive: true, force: true });
});

/** What a promise was rejected with, as `{ code, message }`. */
async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  const err = await promise.then(
    () => new Error('it resolved'),
    (e: unknown) => e as Error & { code?: string },
  );
  return { code: (err as { code?: string }).code, message: err.message };
}

describe('initStore', () => {
  test('creates missing parents, each mode 0700', async () => {
    const dir = join(base, 'a', 'b', 'log');
    await initStore(dir, 'example.com/datadir');
    expect(hasStore(dir)).toBe(true);
    expect(statSync(join(base, 'a')).mode & 0o777).toBe(0o700);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  test('a directory under a file: ERR_STORE_ACCESS naming the path and ENOTDIR, nothing created', async () => {
    const file = join(base, 'file');
    writeFileSync(file, '');
    const dir = join(file, 'x');
    expect(await rejection(initStore(dir))).toEqual({
      code: 'ERR_STORE_ACCESS',
      message: `cannot create the data directory ${dir}: not a directory (ENOTDIR)`,
    });
    expect(readdirSync(base)).toEqual(['file']);
  });

  test('a file where the directory should be: ERR_STORE_ACCESS, ENOTDIR', async () => {
    const file = join(base, 'file');
    writeFileSync(file, 'keep');
    expect(await rejection(initStore(file))).toEqual({
      code: 'ERR_STORE_ACCESS',
      message: `cannot create the data directory ${file}: not a directory (ENOTDIR)`,
    });
  });

  test.skipIf(!existsSync('/proc/self'))('under /proc (where recursive mkdir loops forever): ERR_STORE_ACCESS, ENOENT, at once', async () => {
    expect(await rejection(initStore('/proc/stele-nope/log'))).toEqual({
      code: 'ERR_STORE_ACCESS',
      message: 'cannot create the data directory /proc/stele-nope/log: no such file or directory (ENOENT)',
    });
  }, 5_000);

  test.skipIf(isRoot)('under a read-only parent (not as root, who writes anyway): ERR_STORE_ACCESS, EACCES', async () => {
    const parent = join(base, 'ro');
    mkdirSync(parent, { mode: 0o500 });
    const dir = join(parent, 'log');
    expect(await rejection(initStore(dir))).toEqual({
      code: 'ERR_STORE_ACCESS',
      message: `cannot create the data directory ${dir}: permission denied (EACCES)`,
    });
    expect(existsSync(dir)).toBe(false);
  });
});

describe('hasStore', () => {
  test('false with no directory, or a file in the way; true once a log is there', async () => {
    writeFileSync(join(base, 'file'), '');
    expect(hasStore(join(base, 'none'))).toBe(false);
    expect(hasStore(join(base, 'file'))).toBe(false);
    expect(hasStore(join(base, 'file', 'x'))).toBe(false);
    await initStore(join(base, 'log'), 'example.com/datadir');
    expect(hasStore(join(base, 'log'))).toBe(true);
  });

  test.skipIf(isRoot)('a log in a directory that cannot be searched is unreadable, not missing (not as root, who reads anyway)', async () => {
    const dir = join(base, 'log');
    await initStore(dir, 'example.com/datadir');
    chmodSync(dir, 0o000);
    expect(() => hasStore(dir)).toThrow(expect.objectContaining({ code: 'ERR_STORE_ACCESS', message: `cannot read the data directory ${dir}: permission denied (EACCES)` }));
    expect(await rejection(openForAudit(dir))).toMatchObject({ code: 'ERR_STORE_ACCESS' });
    expect(await rejection(openStore(dir, { mode: 'read' }))).toMatchObject({ code: 'ERR_STORE_ACCESS' });
  });
});

describe('parseRecord', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  test('parses a stored record', () => {
    expect(parseRecord(bytes('{"id":"a","index":3}'), 3)).toEqual({ id: 'a', index: 3 });
  });

  test.each(['{"broken', '', 'null', '3', '"text"', '[]'])('%j is ERR_STORE_CORRUPT naming the entry', (text) => {
    expect(() => parseRecord(bytes(text), 3)).toThrow(expect.objectContaining({ code: 'ERR_STORE_CORRUPT', message: 'entry 3 is not a valid record (run stele verify)' }));
  });

  test('without an index, the message names no entry', () => {
    expect(() => parseRecord(bytes('{'))).toThrow(expect.objectContaining({ code: 'ERR_STORE_CORRUPT', message: 'a stored entry is not a valid record (run stele verify)' }));
  });
});
