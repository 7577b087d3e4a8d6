/**
 * The SQLite store's append-only guards (triggers refusing UPDATE and DELETE)
 * through the real built `stele`: a log made with `stele init` and `stele
 * append`, its file then edited with better-sqlite3 as an attacker with file
 * access would. `stele verify` must notice guards dropped or replaced (exit 1,
 * ERR_GUARDS_MISSING) but still name the entry when the data was changed too;
 * `stele append` must refuse to write, restoring nothing.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { removeTempDirs, requireBuild, seedEvent, stele, steleJson, tempDir } from './helpers.js';

type VerifyJson =
  | { ok: true; size: number; root: string }
  | { ok: false; index: number | null; code: string; message: string };

let pristine: string;

beforeAll(async () => {
  requireBuild();
  pristine = join(tempDir('guards'), 'log');
  expect((await stele(['init', '--dir', pristine, '--origin', 'example.com/guards'])).code).toBe(0);
  const events = Array.from({ length: 30 }, (_, i) => JSON.stringify(seedEvent(i)) + '\n').join('');
  expect((await stele(['append', '--dir', pristine], { input: events })).code).toBe(0);
});

afterAll(removeTempDirs);

/** A copy of the log with `sql` run on its file. */
function edited(sql: string): string {
  const dir = join(tempDir('guards'), 'log');
  cpSync(pristine, dir, { recursive: true });
  const db = new Database(join(dir, 'stele.db'));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
  return dir;
}

const triggers = (dir: string): string[] => {
  const db = new Database(join(dir, 'stele.db'), { readonly: true });
  try {
    return db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").pluck().all() as string[];
  } finally {
    db.close();
  }
};

const verify = (dir: string) => steleJson<VerifyJson>(['verify', '--json', '--dir', dir]);

test('an intact log verifies', async () => {
  const { code, json } = await verify(pristine);
  expect(code).toBe(0);
  expect(json).toMatchObject({ ok: true, size: 30 });
});

test('the guards of entries dropped: exit 1, ERR_GUARDS_MISSING with no index, naming the table and the triggers', async () => {
  const dir = edited('DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete;');
  const { code, json } = await verify(dir);
  expect({ code, ok: json.ok, index: json.ok ? undefined : json.index, error: json.ok ? undefined : json.code }).toEqual({
    code: 1, ok: false, index: null, error: 'ERR_GUARDS_MISSING',
  });
  expect(json.ok ? '' : json.message).toContain('entries are missing (entries_no_update, entries_no_delete)');
  const plain = await stele(['verify', '--dir', dir]);
  expect(plain.code).toBe(1);
  expect(plain.stdout).toMatch(/^FAILED: ERR_GUARDS_MISSING: the append-only guards of entries are missing/);
  // Verification restores nothing either.
  expect(triggers(dir)).not.toContain('entries_no_update');
});

test('a guard replaced by a trigger of the same name that does nothing: caught', async () => {
  const dir = edited(`DROP TRIGGER tree_hashes_no_update;
    CREATE TRIGGER tree_hashes_no_update BEFORE UPDATE ON tree_hashes BEGIN SELECT 'stele: tree_hashes is append-only'; END;`);
  const { code, json } = await verify(dir);
  expect(code).toBe(1);
  expect(json).toMatchObject({ ok: false, index: null, code: 'ERR_GUARDS_MISSING' });
});

test('guards dropped to change an entry: the entry is the failure, the guards are mentioned', async () => {
  const dir = edited("DROP TRIGGER entries_no_update; UPDATE entries SET data = CAST('{}' AS BLOB) WHERE idx = 12;");
  const { code, json } = await verify(dir);
  expect(code).toBe(1);
  expect(json).toMatchObject({ ok: false, index: 12, code: 'ERR_LEAF_HASH_MISMATCH' });
  expect(json.ok ? '' : json.message).toContain('entries_no_update');
});

test('stele append refuses a log whose guards are missing, in one line, and restores nothing', async () => {
  const dir = edited('DROP TRIGGER checkpoints_no_delete;');
  const appended = await stele(['append', '--json', '--dir', dir], { input: JSON.stringify(seedEvent(30)) + '\n' });
  expect(appended.code).toBe(2);
  expect(appended.stderr).toBe('stele append: the append-only guard of checkpoints is missing; run stele verify\n');
  expect(triggers(dir)).not.toContain('checkpoints_no_delete');
  expect((await verify(dir)).json).toMatchObject({ ok: false, index: null, code: 'ERR_GUARDS_MISSING' });
});
