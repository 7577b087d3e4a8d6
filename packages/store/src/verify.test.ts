import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { initStore, openForAudit, openStore } from './dataDir.js';
import { nodeHasher } from './hash.js';
import { verifyLog, type VerifyResult } from './verify.js';
import { workerIndexCheck, workerSettings } from './verifyIndex.js';

const root = mkdtempSync(join(tmpdir(), 'stele-verify-'));
const pristine = join(root, 'pristine');
const SIZE = 1500;

/** Varied events: details with integer-like keys, non-ASCII text, optional fields. */
function event(i: number): Record<string, unknown> {
  const who = ['alice', 'bob', 'zoë'][i % 3]!;
  return {
    id: `v-${i}`,
    time: new Date(Date.UTC(2026, 0, 1) + i * 1000 - (i % 7) * 5000).toISOString(),
    source: ['emacs', 'git'][i % 2],
    action: ['file.save', 'vc.commit', 'package.install'][i % 3],
    actor: i % 5 === 0 ? { email: `${who}@example.com` } : { id: who, email: `${who}@example.com`, name: who },
    ...(i % 4 ? { target: { type: 'file', id: `/home/${who}/f${i % 40}.el`, ...(i % 2 ? { name: `f${i % 40}.el` } : {}) } } : {}),
    outcome: ['success', 'failure'][i % 2],
    ...(i % 6 === 0 ? { reason: `OPS-${i}: Straße ✓` } : {}),
    ...(i % 3 === 0 ? { details: { '10': 'ten', '9': ['nine', { ü: 1 }], mode: 'elisp', size: i } } : {}),
  };
}

beforeAll(async () => {
  await initStore(pristine, 'example.com/verify-test');
  const store = await openStore(pristine, { historyInterval: 0 });
  const sizes = [1, 7, 300, 256, 2, 500];
  for (let i = 0, k = 0; i < SIZE; k++) {
    const n = Math.min(sizes[k % sizes.length]!, SIZE - i);
    await store.log.append(Array.from({ length: n }, (_, j) => event(i + j)));
    i += n;
  }
  await store.log.close();
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

let copies = 0;
/** A copy of the pristine log, edited as an attacker with file access would. */
function tampered(edit: (db: Database.Database) => void): string {
  const dir = join(root, `copy-${copies++}`);
  cpSync(pristine, dir, { recursive: true });
  const db = new Database(join(dir, 'stele.db'));
  for (const name of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[]) db.exec(`DROP TRIGGER "${name}"`);
  edit(db);
  db.close();
  return dir;
}

const text = (db: Database.Database, idx: number): string =>
  (db.prepare('SELECT data FROM entries WHERE idx = ?').pluck().get(idx) as Buffer).toString('utf8');

/** Rewrites an entry and its leaf hash, so that only the later checks can tell. */
function rewrite(db: Database.Database, idx: number, edit: (text: string) => string): void {
  const data = Buffer.from(edit(text(db, idx)), 'utf8');
  db.prepare('UPDATE entries SET data = ?, leaf_hash = ? WHERE idx = ?').run(data, Buffer.from(nodeHasher.hashLeaf(data)), idx);
}

async function verify(dir: string, chunk?: number): Promise<VerifyResult | { threw: string }> {
  const store = await openForAudit(dir);
  try {
    return await verifyLog({ driver: store.driver, verifier: store.verifier, origin: store.origin, ...(chunk ? { chunk } : {}) });
  } catch (err) {
    return { threw: `${(err as Error).name}: ${(err as Error).message}` };
  } finally {
    await store.driver.close();
  }
}

type Expected = Partial<VerifyResult> | 'threw';

/** Each case: the edit, the first finding verify must report, and with chunks of 100 and 257 entries if that differs. */
const cases: [string, (db: Database.Database) => void, Expected, Expected?][] = [
  ['nothing changed', () => undefined, { ok: true, size: SIZE }],
  ['a byte of entry 700 changed', (db) => db.prepare("UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), '\"v-700\"', '\"v-70x\"') AS BLOB) WHERE idx = 700").run(), { index: 700, code: 'ERR_LEAF_HASH_MISMATCH' }],
  ['entry 650 with a space added', (db) => rewrite(db, 650, (t) => t.replace('":', '": ')), { index: 650, code: 'ERR_ENTRY_NOT_CANONICAL' }],
  ['entry 651 with its keys reordered', (db) => rewrite(db, 651, (t) => { const { action, ...rest } = JSON.parse(t); return JSON.stringify({ ...rest, action }); }), { index: 651, code: 'ERR_ENTRY_NOT_CANONICAL' }],
  ['entry 654 with integer keys in engine order', (db) => rewrite(db, 654, (t) => JSON.stringify(JSON.parse(t))), { index: 654, code: 'ERR_ENTRY_NOT_CANONICAL' }],
  ['entry 653 with an escaped letter', (db) => rewrite(db, 653, (t) => t.replace('"action":"', '"action":"\\u0066').replace('"action":"\\u0066f', '"action":"\\u0066')), { index: 653, code: 'ERR_ENTRY_NOT_CANONICAL' }],
  ['entry 652 with a lone surrogate', (db) => rewrite(db, 652, (t) => t.replace('"action":"', '"action":"\\ud800')), { index: 652, code: 'ERR_ENTRY_MALFORMED' }],
  ['entry 655 is not JSON', (db) => rewrite(db, 655, () => '{"actor":'), { index: 655, code: 'ERR_ENTRY_MALFORMED' }],
  // Entries 308 to 563 are one batch, checked before the tile [512, 768) completes.
  ['entry 520 with another outcome', (db) => rewrite(db, 520, (t) => t.replace(/"outcome":"\w+"/, '"outcome":"unknown"')), { index: 520, code: 'ERR_INDEX_MISMATCH' }],
  ['entry 521 with a reason added', (db) => rewrite(db, 521, (t) => t.replace('"received":', '"reason":"zzz","received":')), { index: 521, code: 'ERR_INDEX_MISMATCH' }],
  ['entry 658 with an unparsable time', (db) => rewrite(db, 658, (t) => t.replace(/"time":"[^"]*"/, '"time":"soon"')), 'threw'],
  ['entry 900 deleted', (db) => db.prepare('DELETE FROM entries WHERE idx = 900').run(), { index: 900, code: 'ERR_ENTRY_MISSING' }],
  ['a posting list changed', (db) => db.prepare("UPDATE postings SET offsets = zeroblob(4) WHERE first = 566 AND field = 'outcome' AND value = 'failure'").run(), { index: 566, code: 'ERR_INDEX_MISMATCH' }],
  ['a posting row added', (db) => db.prepare("INSERT INTO postings (field, value, first, offsets) SELECT 'actor', 'mallory', first, zeroblob(4) FROM batches WHERE first > 600 LIMIT 1").run(), { code: 'ERR_INDEX_MISMATCH' }],
  ['a batch time range widened', (db) => db.prepare('UPDATE batches SET max_time = max_time + 1 WHERE first = (SELECT max(first) FROM batches)').run(), { code: 'ERR_INDEX_MISMATCH' }],
  ['a batch row removed', (db) => db.prepare('DELETE FROM batches WHERE first = (SELECT first FROM batches WHERE first > 300 LIMIT 1)').run(), { code: 'ERR_INDEX_MISMATCH' }],
  ['a full-text document changed', (db) => db.prepare("UPDATE batch_text SET words = words || ' zzz' WHERE rowid = (SELECT max(rowid) FROM batch_text)").run(), { code: 'ERR_INDEX_MISMATCH' }],
  ['a tile hash changed', (db) => db.prepare('UPDATE tree_hashes SET hash = zeroblob(32) WHERE level = 8 AND idx = 2').run(), { index: 512, code: 'ERR_TREE_HASH_MISMATCH' }],
  ['an index problem before a later entry problem', (db) => {
    db.prepare("UPDATE postings SET offsets = zeroblob(8) WHERE first = (SELECT first FROM batches WHERE first > 100 LIMIT 1) AND field = 'source' AND value = 'git'").run();
    rewrite(db, 1400, (t) => t.replace('":', '": '));
  }, { code: 'ERR_INDEX_MISMATCH' }],
  // Deriving a row throws before the index problem is settled at the end of its chunk; with small chunks, after.
  ['an index problem, then a row that cannot be derived in the same chunk', (db) => {
    db.prepare("UPDATE postings SET value = 'elsewhere' WHERE first = 1 AND field = 'source' AND value = 'git'").run();
    rewrite(db, 1400, (t) => t.replace(/"time":"[^"]*"/, '"time":"soon"'));
  }, 'threw', { index: 1, code: 'ERR_INDEX_MISMATCH' }],
];

function expectResult(result: unknown, expected: Expected): void {
  if (expected === 'threw') expect(result).toHaveProperty('threw');
  else expect(result, JSON.stringify(result)).toMatchObject(expected);
}

describe('verifyLog on one thread', () => {
  test.each(cases)('%s', async (_name, edit, expected, small) => {
    const dir = tampered(edit);
    const results = [await verify(dir), await verify(dir, 100), await verify(dir, 257)];
    expectResult(results[0], expected);
    if (small === undefined) {
      // The chunk size changes nothing.
      expect(results[1]).toEqual(results[0]);
      expect(results[2]).toEqual(results[0]);
    } else {
      expectResult(results[1], small);
      expectResult(results[2], small);
    }
  });
});

// The worker runs compiled JavaScript: this part needs the build (npm test builds first).
const script = new URL('../dist/verifyIndexWorker.js', import.meta.url);
describe.runIf(existsSync(script))('verifyLog with the index checked in a worker', () => {
  const inlineSettings = { ...workerSettings };
  beforeAll(() => Object.assign(workerSettings, { script, minEntries: 0, chunk: 64 }));
  afterAll(() => Object.assign(workerSettings, inlineSettings));

  test('the worker starts for a file-backed store', async () => {
    const store = await openForAudit(pristine);
    try {
      const check = workerIndexCheck(store.driver, SIZE);
      expect(check).toBeDefined();
      await check!.close();
    } finally {
      await store.driver.close();
    }
  });

  test.each(cases)('%s: the same result as on one thread', async (_name, edit) => {
    const dir = tampered(edit);
    const parallel = [await verify(dir), await verify(dir, 100), await verify(dir, 257)];
    Object.assign(workerSettings, { minEntries: Infinity });
    const inline = [await verify(dir), await verify(dir, 100), await verify(dir, 257)];
    Object.assign(workerSettings, { minEntries: 0 });
    expect(parallel).toEqual(inline);
  });
});
