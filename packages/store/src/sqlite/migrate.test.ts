import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { initStore, openForAudit, openStore } from '../dataDir.js';
import { verifyLog } from '../verify.js';
import { openSqliteDriver } from './driver.js';

const root = mkdtempSync(join(tmpdir(), 'stele-migrate-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Version 1's query index, as it was created. */
const V1_INDEX = `
CREATE TABLE batches (first INTEGER PRIMARY KEY, last INTEGER NOT NULL, min_time INTEGER NOT NULL, max_time INTEGER NOT NULL);
CREATE TABLE postings (field TEXT NOT NULL, value TEXT NOT NULL, first INTEGER NOT NULL, offsets BLOB NOT NULL, PRIMARY KEY (field, value, first)) WITHOUT ROWID;
CREATE VIRTUAL TABLE batch_text USING fts5 (words);
${['batches', 'postings'].map((t) => `CREATE TRIGGER ${t}_no_update BEFORE UPDATE ON ${t} BEGIN SELECT RAISE(ABORT, 'stele: ${t} is append-only'); END;
CREATE TRIGGER ${t}_no_delete BEFORE DELETE ON ${t} BEGIN SELECT RAISE(ABORT, 'stele: ${t} is append-only'); END;`).join('\n')}
INSERT INTO batches VALUES (0, 249, 0, 0);
INSERT INTO postings VALUES ('actor', 'alice', 0, x'00000000');
INSERT INTO batch_text (rowid, words) VALUES (0, 'alice save');
`;

const event = (i: number) => ({
  id: `m-${i}`,
  time: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
  source: i % 2 ? 'git' : 'emacs',
  action: i % 3 ? 'file.save' : 'package.install',
  actor: { id: ['alice', 'bob', 'zoë'][i % 3] },
  target: { type: 'file', id: `/src/f${i}.el` },
  ...(i === 77 ? { reason: 'rare zeppelin' } : {}),
});

/** A store as version 1 left it: its entries, hashes and checkpoints, version 1's index tables and version. */
async function v1Store(name: string): Promise<string> {
  const dir = join(root, name);
  await initStore(dir, 'example.com/migrate');
  const store = await openStore(dir);
  for (let i = 0; i < 250; i += 50) await store.log.append(Array.from({ length: 50 }, (_, k) => event(i + k)));
  await store.log.close();
  const db = new Database(join(dir, 'stele.db'));
  db.exec(`DROP TABLE units; DROP TABLE unit_text; ${V1_INDEX}
    DROP TRIGGER meta_no_update; UPDATE meta SET value = '1' WHERE key = 'schema';
    CREATE TRIGGER meta_no_update BEFORE UPDATE ON meta BEGIN SELECT RAISE(ABORT, 'stele: meta is append-only'); END;`);
  db.close();
  return dir;
}

const tables = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return {
      schema: db.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get(),
      names: db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[],
    };
  } finally {
    db.close();
  }
};

describe('a version 1 store', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await v1Store('v1');
  });

  test('is refused read-only, with what to do', () => {
    expect(() => openSqliteDriver({ path: join(dir, 'stele.db'), readonly: true })).toThrow(/open it once with write access/);
    expect(tables(join(dir, 'stele.db')).schema).toBe('1');
  });

  test('is migrated when opened for writing: the unit index built from the entries, the old tables gone, everything else kept', async () => {
    const store = await openForAudit(dir);
    try {
      const { schema, names } = tables(join(dir, 'stele.db'));
      expect(schema).toBe('2');
      expect(names).toEqual(expect.arrayContaining(['checkpoint_latest', 'checkpoints', 'entries', 'meta', 'tree_hashes', 'unit_text', 'units']));
      expect(names.filter((n) => /^(batches|postings|batch_text)/.test(n))).toEqual([]);
      expect(await verifyLog({ driver: store.driver, verifier: store.verifier, origin: store.origin })).toMatchObject({ ok: true, size: 250 });
    } finally {
      await store.driver.close();
    }
    // Opened again: nothing more to do, and the log goes on.
    const again = await openStore(dir);
    try {
      expect((await again.log.query({ text: 'zeppelin', limit: 10 })).map((e) => e.index)).toEqual([77]);
      expect((await again.log.query({ actor: 'alice', action: 'package.*', limit: 100 })).map((e) => e.index)).toEqual(
        Array.from({ length: 250 }, (_, i) => 249 - i).filter((i) => i % 3 === 0),
      );
      expect(await again.log.query({ actor: 'zoë', action: 'package.*', limit: 100 })).toEqual([]);
      expect((await again.log.query({ actor: 'bob', limit: 3 })).map((e) => e.index)).toEqual([247, 244, 241]);
      await again.log.append([event(250)]);
      expect(again.log.size()).toBe(251);
    } finally {
      await again.log.close();
    }
  });
});
