import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { initStore, openForAudit, openStore } from '../dataDir.js';
import { verifyLog } from '../verify.js';
import { describeGuards } from '../verifyGuards.js';
import { openSqliteDriver } from './driver.js';
import { migrateFromV1 } from './migrate.js';

const root = mkdtempSync(join(tmpdir(), 'stele-guards-'));
const pristine = join(root, 'pristine');
let copies = 0;

beforeAll(async () => {
  await initStore(pristine, 'example.com/guards');
  const store = await openStore(pristine, { historyInterval: 0 });
  for (let i = 0; i < 20; i += 5) {
    await store.log.append(Array.from({ length: 5 }, (_, k) => ({ id: `g-${i + k}`, source: 'emacs', action: 'file.save', actor: { id: 'alice' } })));
  }
  await store.log.close();
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A copy of the pristine log with its SQLite file edited. */
function edited(sql: string): string {
  const dir = join(root, `copy-${copies++}`);
  cpSync(pristine, dir, { recursive: true });
  const db = new Database(join(dir, 'stele.db'));
  db.exec(sql);
  db.close();
  return dir;
}

async function problemsOf(dir: string) {
  const driver = openSqliteDriver({ path: join(dir, 'stele.db'), readonly: true });
  try {
    return await driver.guardProblems!();
  } finally {
    await driver.close();
  }
}

async function verify(dir: string) {
  const store = await openForAudit(dir);
  try {
    return await verifyLog({ driver: store.driver, verifier: store.verifier, origin: store.origin });
  } finally {
    await store.driver.close();
  }
}

const NO_OP = "CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries BEGIN SELECT 'stele: entries is append-only'; END;";

describe('the SQLite guards', () => {
  test('a store as created has all of them and nothing else', async () => {
    expect(await problemsOf(pristine)).toEqual([]);
  });

  test('dropped, replaced with one that does nothing, moved to another table, or joined by another trigger: each found', async () => {
    const dir = edited(`DROP TRIGGER entries_no_delete; DROP TRIGGER entries_no_update; ${NO_OP}
      DROP TRIGGER units_no_delete; CREATE TRIGGER units_no_delete BEFORE DELETE ON meta BEGIN SELECT RAISE(ABORT, 'stele: units is append-only'); END;
      CREATE TRIGGER sneaky BEFORE INSERT ON entries BEGIN SELECT RAISE(IGNORE); END;`);
    expect(await problemsOf(dir)).toEqual([
      { table: 'entries', guard: 'entries_no_update', kind: 'altered' },
      { table: 'entries', guard: 'entries_no_delete', kind: 'missing' },
      { table: 'units', guard: 'units_no_delete', kind: 'altered' },
      { table: 'entries', guard: 'sneaky', kind: 'unexpected' },
    ]);
  });

  test('re-created with other whitespace and without IF NOT EXISTS: intact', async () => {
    const dir = edited(`DROP TRIGGER meta_no_update;
      CREATE TRIGGER meta_no_update BEFORE UPDATE ON meta BEGIN SELECT RAISE(ABORT, 'stele: meta is append-only'); END;`);
    expect(await problemsOf(dir)).toEqual([]);
  });

  test('migrating a version 1 store puts back the meta guard it lifts as it was: missing stays missing', () => {
    const dir = edited("DROP TRIGGER meta_no_update; UPDATE meta SET value = '1' WHERE key = 'schema'; DROP TABLE units; DROP TABLE unit_text;");
    const db = new Database(join(dir, 'stele.db'));
    try {
      migrateFromV1(db);
      const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'meta'").pluck().all();
      expect(names).toEqual(['meta_no_delete']);
    } finally {
      db.close();
    }
  });
});

describe('verification and the guards', () => {
  test('an intact store verifies', async () => {
    expect(await verify(pristine)).toMatchObject({ ok: true, size: 20 });
  });

  test('guards missing, contents intact: ERR_GUARDS_MISSING without an index, naming tables and triggers', async () => {
    const result = await verify(edited('DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete;'));
    expect(result).toMatchObject({ ok: false, index: null, code: 'ERR_GUARDS_MISSING' });
    expect(!result.ok && result.message).toMatch(/^the append-only guards of entries are missing \(entries_no_update, entries_no_delete\): /);
  });

  test('a guard replaced with one that does nothing: ERR_GUARDS_MISSING', async () => {
    expect(await verify(edited(`DROP TRIGGER entries_no_update; ${NO_OP}`))).toMatchObject({ ok: false, index: null, code: 'ERR_GUARDS_MISSING' });
  });

  test('guards dropped to change an entry: the entry is reported, the guards mentioned', async () => {
    const result = await verify(edited("DROP TRIGGER entries_no_update; UPDATE entries SET data = CAST('{}' AS BLOB) WHERE idx = 7;"));
    expect(result).toMatchObject({ ok: false, index: 7, code: 'ERR_LEAF_HASH_MISMATCH' });
    expect(!result.ok && result.message).toMatch(/; also, the append-only guard of entries is missing \(entries_no_update\)$/);
  });
});

describe('opening for appending', () => {
  test('refuses a store whose guards are missing, restoring nothing; reading still works', async () => {
    const dir = edited('DROP TRIGGER checkpoints_no_delete;');
    await expect(openStore(dir)).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT', message: 'the append-only guard of checkpoints is missing; run stele verify' });
    expect(await problemsOf(dir)).toEqual([{ table: 'checkpoints', guard: 'checkpoints_no_delete', kind: 'missing' }]);
    const store = await openStore(dir, { mode: 'read' });
    expect(store.log.size()).toBe(20);
    await store.log.close();
  });
});

test('the guards described, with and without names', () => {
  const problems = [
    { table: 'meta', guard: 'meta_no_update', kind: 'missing' },
    { table: 'entries', guard: 'entries_no_update', kind: 'missing' },
    { table: 'entries', guard: 'entries_no_delete', kind: 'missing' },
    { table: 'units', guard: 'units_no_delete', kind: 'altered' },
    { table: 'units', guard: 'x', kind: 'unexpected' },
  ] as const;
  expect(describeGuards(problems)).toBe(
    'the append-only guards of meta and entries are missing (meta_no_update, entries_no_update, entries_no_delete); ' +
      'the append-only guard of units is altered (units_no_delete); units has a trigger stele does not create (x)',
  );
  expect(describeGuards(problems.slice(0, 3), false)).toBe('the append-only guards of meta and entries are missing');
});
