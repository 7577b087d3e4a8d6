import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { conformanceCases, type DriverFixture } from '../conformance.js';
import { openSqliteDriver } from './driver.js';
import { APPEND_ONLY_TABLES } from './schema.js';

async function fixture(): Promise<DriverFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'stele-sqlite-'));
  const path = join(dir, 'stele.db');
  const f: DriverFixture = {
    driver: openSqliteDriver({ path }),
    reopen: async () => openSqliteDriver({ path }),
    cleanup: async () => {
      await f.driver.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return f;
}

describe('SQLite driver conformance', () => {
  for (const c of conformanceCases) test(c.name, () => c.run(fixture));
});

describe('SQLite driver', () => {
  test('the log tables refuse UPDATE and DELETE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stele-sqlite-'));
    try {
      const path = join(dir, 'stele.db');
      const driver = openSqliteDriver({ path });
      await driver.putMeta('origin', 'o');
      await driver.commit({
        entries: [{ index: 0, id: 'a', leafHash: new Uint8Array(32), bytes: new Uint8Array([1]), row: {
          time: 1, received: 1, source: 's', action: 'a', actorId: 'x', actorEmail: null, targetType: null, targetId: null,
          targetName: null, outcome: 'success', text: 't' } }],
        hashes: [{ level: 8, index: 0, hash: new Uint8Array(32) }],
        checkpoint: { size: 1, created: 1, note: 'n\n' },
        historic: true,
      });
      await driver.close();
      const db = new Database(path);
      const column: Record<string, string> = { meta: 'value', entries: 'id', tree_hashes: 'hash', checkpoints: 'note', units: 'last' };
      for (const table of APPEND_ONLY_TABLES) {
        expect(() => db.prepare(`UPDATE ${table} SET ${column[table]} = ${column[table]}`).run(), table).toThrow(/append-only/);
        expect(() => db.prepare(`DELETE FROM ${table}`).run(), table).toThrow(/append-only/);
      }
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
