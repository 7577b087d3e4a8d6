import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { openFileTarget } from './fileTarget.js';
import { codeOf } from './testLog.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'stele-worm-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const bytes = (text: string) => new TextEncoder().encode(text);
const LOCK = { mode: 'COMPLIANCE' as const, retainUntil: new Date(Date.UTC(2031, 5, 1)) };

test('create writes a complete read-only file with the retain-until date as atime, and never replaces it', async () => {
  const target = openFileTarget({ path: root });
  expect(await target.create('tile/0/x001/002.p/7', bytes('seven'), LOCK)).toBe('created');
  const file = join(root, 'tile/0/x001/002.p/7');
  expect(statSync(file).mode & 0o777).toBe(0o444);
  expect(statSync(file).atime.getTime()).toBe(LOCK.retainUntil.getTime());
  expect(await target.create('tile/0/x001/002.p/7', bytes('seven'), LOCK)).toBe('exists');
  expect(await codeOf(target.create('tile/0/x001/002.p/7', bytes('eight'), LOCK))).toBe('ERR_ARCHIVE_CONFLICT');
  expect(new TextDecoder().decode(await target.read('tile/0/x001/002.p/7'))).toBe('seven');
  // No temporary file is left behind.
  expect(readdirSync(join(root, 'tile/0/x001/002.p'))).toEqual(['7']);
});

test('a complete file a crash left writable is committed when found; list skips temporary files', async () => {
  const target = openFileTarget({ path: root });
  mkdirSync(join(root, 'tile/entries'), { recursive: true });
  writeFileSync(join(root, 'tile/entries/1'), 'x'); // not a tile path: listed all the same, the verifier ignores it
  mkdirSync(join(root, 'tile/entries/000.p'), { recursive: true });
  writeFileSync(join(root, 'tile/entries/000.p/3'), 'abc', { mode: 0o644 });
  writeFileSync(join(root, 'tile/entries/000.p/.stele-tmp-1-aaaa'), 'partial');
  expect(await target.create('tile/entries/000.p/3', bytes('abc'), LOCK)).toBe('exists');
  expect(statSync(join(root, 'tile/entries/000.p/3')).mode & 0o777).toBe(0o444);
  const listed = [];
  for await (const path of target.list()) listed.push(path);
  expect(listed.sort()).toEqual(['tile/entries/000.p/3', 'tile/entries/1']);
  expect(await target.read('tile/entries/000.p/9')).toBeUndefined();
});

test('a directory that is missing, or is a file, is unreachable; a write that fails is ERR_ARCHIVE_WRITE', async () => {
  expect(await codeOf(openFileTarget({ path: join(root, 'not-mounted') }).inspect())).toBe('ERR_ARCHIVE_UNREACHABLE');
  writeFileSync(join(root, 'plain'), '');
  expect(await codeOf(openFileTarget({ path: join(root, 'plain') }).inspect())).toBe('ERR_ARCHIVE_UNREACHABLE');
  expect(await openFileTarget({ path: root }).inspect()).toEqual({ versioning: false, objectLock: false, unverifiable: true });
  // A path through a file cannot be created (ENOTDIR), whoever runs the test.
  expect(await codeOf(openFileTarget({ path: root }).create('plain/x', bytes('x'), undefined))).toBe('ERR_ARCHIVE_WRITE');
});
