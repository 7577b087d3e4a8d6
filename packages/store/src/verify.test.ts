import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createSigner, createVerifier, generateSignerKey } from '@stele/log';
import { initStore, openForAudit, openStore } from './dataDir.js';
import { nodeHasher } from './hash.js';
import { openLog } from './log.js';
import { openSqliteDriver } from './sqlite/driver.js';
import { verifyLog, type VerifyResult } from './verify.js';
import { startPool, workerSettings } from './verifyParallel.js';

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
    ...(i % 50 === 7 ? { reason: 'a \ufffd read from bytes that were not UTF-8' } : {}),
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
  // tampered() drops the append-only guards: with the data intact, they are the failure.
  ['nothing changed but the guards dropped', () => undefined, { ok: false, index: null, code: 'ERR_GUARDS_MISSING' }],
  ['a byte of entry 700 changed', (db) => db.prepare("UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), '\"v-700\"', '\"v-70x\"') AS BLOB) WHERE idx = 700").run(), { index: 700, code: 'ERR_LEAF_HASH_MISMATCH' }],
  ['entry 650 with a space added', (db) => rewrite(db, 650, (t) => t.replace('":', '": ')), { index: 650, code: 'ERR_ENTRY_NOT_CANONICAL' }],
  ['entry 651 with its keys reordered', (db) => rewrite(db, 651, (t) => { const { action, ...rest } = JSON.parse(t); return JSON.stringify({ ...rest, action }); }), { index: 651, code: 'ERR_ENTRY_NOT_CANONICAL' }],
  ['entry 654 with integer keys in engine order', (db) => rewrite(db, 654, (t) => JSON.stringify(JSON.parse(t))), { index: 654, code: 'ERR_ENTRY_NOT_CANONICAL' }],
  ['entry 653 with an escaped letter', (db) => rewrite(db, 653, (t) => t.replace('"action":"', '"action":"\\u0066').replace('"action":"\\u0066f', '"action":"\\u0066')), { index: 653, code: 'ERR_ENTRY_NOT_CANONICAL' }],
  ['entry 652 with a lone surrogate', (db) => rewrite(db, 652, (t) => t.replace('"action":"', '"action":"\\ud800')), { index: 652, code: 'ERR_ENTRY_MALFORMED' }],
  ['entry 655 is not JSON', (db) => rewrite(db, 655, () => '{"actor":'), { index: 655, code: 'ERR_ENTRY_MALFORMED' }],
  // Entries 308 to 563 are one commit, in units of at most 64: [512, 563] is checked before the tile [512, 768) completes.
  // The index disagrees with the entry first, but the entries no longer reproduce the checkpoint at 564: a changed entry, not index damage.
  ['entry 520 with another outcome', (db) => rewrite(db, 520, (t) => t.replace(/"outcome":"\w+"/, '"outcome":"unknown"')), { index: 520, code: 'ERR_CHECKPOINT_ROOT_MISMATCH' }],
  ['entry 521 with a reason added', (db) => rewrite(db, 521, (t) => t.replace('"received":', '"reason":"zzz","received":')), { index: 521, code: 'ERR_CHECKPOINT_ROOT_MISMATCH' }],
  ['entry 658 with an unparsable time', (db) => rewrite(db, 658, (t) => t.replace(/"time":"[^"]*"/, '"time":"soon"')), { index: 658, code: 'ERR_ENTRY_MALFORMED' }],
  ['entry 660 not UTF-8 (its leaf hash rewritten)', (db) => {
    const data = Buffer.concat([Buffer.from(text(db, 660), 'utf8'), Buffer.from([0xff])]);
    db.prepare('UPDATE entries SET data = ?, leaf_hash = ? WHERE idx = ?').run(data, Buffer.from(nodeHasher.hashLeaf(data)), 660);
  }, { index: 660, code: 'ERR_ENTRY_MALFORMED' }],
  ['entry 661 with a byte order mark (its leaf hash rewritten)', (db) => rewrite(db, 661, (t) => `\ufeff${t}`), { index: 661, code: 'ERR_ENTRY_MALFORMED' }],
  ['entry 757 with its U+FFFD (bytes EF BF BD) replaced by a byte that is not UTF-8 (FF), which reads as the same text', (db) => {
    const data = db.prepare('SELECT data FROM entries WHERE idx = 757').pluck().get() as Buffer;
    const at = data.indexOf(Buffer.from([0xef, 0xbf, 0xbd]));
    expect(at).toBeGreaterThan(0);
    db.prepare('UPDATE entries SET data = ? WHERE idx = 757').run(Buffer.concat([data.subarray(0, at), Buffer.from([0xff]), data.subarray(at + 3)]));
    expect(text(db, 757)).toBe(data.toString('utf8'));
  }, { index: 757, code: 'ERR_LEAF_HASH_MISMATCH' }],
  // Entries are read packed in one string, cut by the id's length in bytes: stored values that would cut it elsewhere.
  ['entry 702 under an id of two-byte characters, its leaf hash with a byte before it', (db) => {
    const data = Buffer.from(text(db, 702), 'utf8');
    db.prepare('UPDATE entries SET id = ?, leaf_hash = ? WHERE idx = 702').run('éé', Buffer.concat([Buffer.from([0xab]), nodeHasher.hashLeaf(data)]));
  }, { index: 702, code: 'ERR_LEAF_HASH_MISMATCH' }],
  ['entry 703 whose record names that id, under it, with its leaf hash and a byte before it', (db) => {
    const data = Buffer.from(text(db, 703).replace('"id":"v-703"', '"id":"ééab"'), 'utf8');
    db.prepare('UPDATE entries SET id = ?, data = ?, leaf_hash = ? WHERE idx = 703').run('éé', data, Buffer.concat([Buffer.from([0xab]), nodeHasher.hashLeaf(data)]));
  }, { index: 703, code: 'ERR_LEAF_HASH_MISMATCH' }],
  ['entry 704 with a leaf hash one byte short', (db) => db.prepare('UPDATE entries SET leaf_hash = substr(leaf_hash, 1, 31) WHERE idx = 704').run(), { index: 704, code: 'ERR_LEAF_HASH_MISMATCH' }],
  ['entry 705 with a leaf hash one byte short and two hex digits before its record', (db) => {
    const data = Buffer.from(text(db, 705), 'utf8');
    const leaf = Buffer.from(nodeHasher.hashLeaf(data));
    db.prepare('UPDATE entries SET data = ?, leaf_hash = ? WHERE idx = 705').run(Buffer.concat([Buffer.from(leaf.subarray(31).toString('hex')), data]), leaf.subarray(0, 31));
  }, { index: 705, code: 'ERR_LEAF_HASH_MISMATCH' }],
  ['entry 706 with its id as a blob', (db) => db.prepare('UPDATE entries SET id = CAST(id AS BLOB) WHERE idx = 706').run(), { index: 706, code: 'ERR_ENTRY_ID_MISMATCH' }],
  ['entry 707 with a NUL after its id', (db) => db.prepare("UPDATE entries SET id = id || char(0) WHERE idx = 707").run(), { index: 707, code: 'ERR_ENTRY_ID_MISMATCH' }],
  ['entry 900 deleted', (db) => db.prepare('DELETE FROM entries WHERE idx = 900').run(), { index: 900, code: 'ERR_ENTRY_MISSING' }],
  ['a word of a unit document changed', (db) => {
    const doc = db.prepare('SELECT doc FROM unit_text WHERE rowid = 576').pluck().get() as string;
    db.prepare('UPDATE unit_text SET doc = ? WHERE rowid = 576').run(doc.replace(/^(([^\n]*\n){3})(\S+)/, '$1x$3'));
  }, { index: 579, code: 'ERR_INDEX_MISMATCH' }],
  ['a unit document with a two-byte character for its first', (db) => db.prepare("UPDATE unit_text SET doc = 'é' || substr(doc, 2) WHERE rowid = 576").run(), { index: 576, code: 'ERR_INDEX_MISMATCH' }],
  ['a unit document added inside a unit', (db) => db.prepare("INSERT INTO unit_text (rowid, doc) VALUES (700, 'zzz')").run(), { index: 700, code: 'ERR_INDEX_MISMATCH' }],
  ['a unit time range widened', (db) => db.prepare('UPDATE units SET max_time = max_time + 1 WHERE first = (SELECT max(first) FROM units)').run(), { code: 'ERR_INDEX_MISMATCH' }],
  ['a unit row removed', (db) => db.prepare('DELETE FROM units WHERE first = (SELECT first FROM units WHERE first > 300 LIMIT 1)').run(), { index: 308, code: 'ERR_INDEX_MISMATCH' }],
  ['a unit split in two', (db) => {
    db.prepare('UPDATE units SET last = 330 WHERE first = 320').run();
    db.prepare('INSERT INTO units (first, last, min_time, max_time) SELECT 331, 383, min_time, max_time FROM units WHERE first = 320').run();
  }, { index: 320, code: 'ERR_INDEX_MISMATCH' }],
  ['a unit across a block boundary', (db) => db.prepare('UPDATE units SET last = 400 WHERE first = 320').run(), { index: 320, code: 'ERR_INDEX_MISMATCH' }],
  ['a full-text document changed', (db) => db.prepare("UPDATE unit_text SET doc = doc || ' zzz' WHERE rowid = (SELECT max(rowid) FROM unit_text)").run(), { code: 'ERR_INDEX_MISMATCH' }],
  ['a unit beyond the log', (db) => db.prepare(`INSERT INTO units (first, last, min_time, max_time) VALUES (${SIZE}, ${SIZE}, 0, 0)`).run(), { index: SIZE, code: 'ERR_INDEX_MISMATCH' }],
  ['a tile hash changed', (db) => db.prepare('UPDATE tree_hashes SET hash = zeroblob(32) WHERE level = 8 AND idx = 2').run(), {
    index: 512,
    code: 'ERR_TREE_HASH_MISMATCH',
    message: expect.stringContaining('is wrong: the hash of its entries fits the checkpoint at size 1066'),
  }],
  // A stored tile-level hash that differs from its entries': the signed root at 1066 tells which side is wrong (the checkpoint at 566 holds).
  ['entry 702 changed where no index looks (its leaf hash rewritten)', (db) => rewrite(db, 702, (t) => t.replace('"size":702', '"size":703')), {
    index: 566,
    code: 'ERR_CHECKPOINT_ROOT_MISMATCH',
    message: expect.stringContaining('an entry in [566, 768) differs from what was signed'),
  }],
  ['two tile hashes changed: the signed root fits neither tree', (db) => db.prepare('UPDATE tree_hashes SET hash = zeroblob(32) WHERE level = 8 AND idx IN (2, 3)').run(), {
    index: 512,
    code: 'ERR_TREE_HASH_MISMATCH',
    message: expect.stringContaining('no signed root tells which is wrong'),
  }],
  ['a tile hash removed', (db) => db.prepare('DELETE FROM tree_hashes WHERE level = 8 AND idx = 4').run(), { index: 1024, code: 'ERR_TREE_HASH_MISSING' }],
  ['an index problem before a later entry problem', (db) => {
    db.prepare("UPDATE unit_text SET doc = 'x' || doc WHERE rowid = 128").run();
    rewrite(db, 1400, (t) => t.replace('":', '": '));
  }, { index: 128, code: 'ERR_INDEX_MISMATCH' }],
  ['an index problem, then a row that cannot be derived', (db) => {
    db.prepare("UPDATE units SET min_time = min_time - 1 WHERE first = 1").run();
    rewrite(db, 1400, (t) => t.replace(/"time":"[^"]*"/, '"time":"soon"'));
  }, { index: 1, code: 'ERR_INDEX_MISMATCH' }],
  ['an entry problem before the index problem of its unit', (db) => {
    db.prepare("UPDATE unit_text SET doc = doc || 'x' WHERE rowid = 1024").run();
    rewrite(db, 1030, (t) => t.replace('":', '": '));
  }, { index: 1030, code: 'ERR_ENTRY_NOT_CANONICAL' }],
  ['a checkpoint signature broken inside a chunk', (db) => db.prepare("UPDATE checkpoints SET note = replace(note, '—', '-') WHERE size = 1067").run(), { index: 1066, code: 'ERR_CHECKPOINT_SIGNATURE' }],
];

function expectResult(result: unknown, expected: Expected): void {
  if (expected === 'threw') expect(result).toHaveProperty('threw');
  else expect(result, JSON.stringify(result)).toMatchObject(expected);
}

test("verification's root is the log's, whatever the chunks", async () => {
  const store = await openStore(pristine, { mode: 'read' });
  const root = Buffer.from(await store.log.root(SIZE)).toString('base64');
  await store.log.close();
  for (const chunk of [undefined, 64, 100, 1024]) expect(await verify(pristine, chunk)).toEqual({ ok: true, size: SIZE, root });
});

test('a log that grows while it is verified verifies at the size it had', async () => {
  const dir = join(root, `copy-${copies++}`);
  cpSync(pristine, dir, { recursive: true });
  const store = await openForAudit(dir);
  const db = new Database(join(dir, 'stele.db'));
  let grown = false;
  try {
    const result = await verifyLog({
      driver: store.driver, verifier: store.verifier, origin: store.origin, chunk: 256,
      // Another writer's commit, as the collector would make it: an entry and its unit.
      onProgress: () => {
        if (grown) return;
        grown = true;
        db.prepare('INSERT INTO entries (idx, id, leaf_hash, data) SELECT idx + 1, id || \'+\', leaf_hash, data FROM entries WHERE idx = ?').run(SIZE - 1);
        db.prepare('INSERT INTO units (first, last, min_time, max_time) VALUES (?, ?, 0, 0)').run(SIZE, SIZE);
        db.prepare("INSERT INTO unit_text (rowid, doc) VALUES (?, 'grown')").run(SIZE);
      },
    });
    expect(grown).toBe(true);
    expect(result).toMatchObject({ ok: true, size: SIZE });
  } finally {
    db.close();
    await store.driver.close();
  }
});

test("a caller's hasher whose digests are not 32 bytes is held to the stored hashes, not to their beginnings", async () => {
  // Against the type, as a caller's JavaScript may: the first 16 bytes of every hash.
  const short = {
    size: 32,
    emptyRoot: () => nodeHasher.emptyRoot().slice(0, 16),
    hashLeaf: (entry: Uint8Array) => nodeHasher.hashLeaf(entry).slice(0, 16),
    hashChildren: (left: Uint8Array, right: Uint8Array) => nodeHasher.hashChildren(left, right).slice(0, 16),
  } as const;
  const store = await openForAudit(pristine);
  try {
    const result = await verifyLog({ driver: store.driver, verifier: store.verifier, origin: store.origin, hasher: short });
    expect(result).toMatchObject({ ok: false, index: 0, code: 'ERR_LEAF_HASH_MISMATCH' });
  } finally {
    await store.driver.close();
  }
});

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
const script = new URL('../dist/verifyWorker.js', import.meta.url);
describe.runIf(existsSync(script))('verifyLog with the index checked in a worker', () => {
  const inlineSettings = { ...workerSettings };
  // A worker that fails would send verification back to one thread, hiding the failure: here it throws.
  beforeAll(() => Object.assign(workerSettings, { script, minEntries: 0, startOver: false }));
  afterAll(() => Object.assign(workerSettings, inlineSettings));

  test('the worker starts for a file-backed store and checks chunks', async () => {
    const pool = startPool({ source: { kind: 'sqlite', path: join(pristine, 'stele.db'), readonly: true }, size: SIZE, level: 6, sizes: [SIZE] });
    expect(pool).toBeDefined();
    const taken: number[] = [];
    try {
      while (taken.length === 0) {
        await pool!.wait();
        taken.push(...pool!.take().map(([chunk]) => chunk));
      }
    } finally {
      await pool!.close();
    }
    expect(taken[0]).toBe(0);
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

describe('the seek index of the full-text index', () => {
  // Documents big enough for FTS5 segments of many pages, whose seek index (unit_text_idx) has a row per page.
  const big = join(root, 'big');
  beforeAll(async () => {
    await initStore(big, 'example.com/verify-test');
    const store = await openStore(big, { historyInterval: 0 });
    const word = (i: number, k: number) => `w${((i * 7919 + k * 104_729) % 1_000_003).toString(36)}x${k}`;
    for (let i = 0; i < 3000; i += 500) {
      await store.log.append(Array.from({ length: 500 }, (_, j) => ({ ...event(i + j), id: `big-${i + j}`, details: { words: Array.from({ length: 20 }, (_, k) => word(i + j, k)).join(' ') } })));
    }
    await store.log.close();
  });

  test("without a segment's rows past its first page, FTS5's own check passes but their words go unfound: ERR_INDEX_MISMATCH", async () => {
    for (const which of ['all but the first', 'the last']) {
      const dir = join(root, `copy-${copies++}`);
      cpSync(big, dir, { recursive: true });
      const db = new Database(join(dir, 'stele.db'));
      db.unsafeMode(true);
      db.exec("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, 'unit_text', 'row')");
      const terms = db.prepare('SELECT term, doc FROM temp.vocab').raw().all() as [string, number][];
      const count = db.prepare('SELECT count(*) FROM unit_text WHERE unit_text MATCH ?').pluck();
      const segment = db.prepare('SELECT segid FROM unit_text_idx GROUP BY segid ORDER BY count(*) DESC LIMIT 1').pluck().get();
      const rows = which === 'the last' ? "term = (SELECT max(term) FROM unit_text_idx WHERE segid = $s)" : "term > x''";
      expect(db.prepare(`DELETE FROM unit_text_idx WHERE segid = $s AND ${rows}`).run({ s: segment }).changes, which).toBeGreaterThan(0);
      expect(db.prepare('PRAGMA integrity_check(unit_text)').pluck().all(), which).toEqual(['ok']);
      expect(terms.filter(([term, docs]) => count.get(`"${term}"`) !== docs).length, which).toBeGreaterThan(0);
      db.close();
      const result = await verify(dir);
      expect(result, which).toMatchObject({ ok: false, index: null, code: 'ERR_INDEX_MISMATCH' });
      expect((result as { message: string }).message, which).toMatch(/seek index has no row for page \d+ of segment \d+/);
    }
  });

  test('the log with documents of many pages verifies', async () => {
    expect(await verify(big)).toMatchObject({ ok: true, size: 3000 });
  });
});

describe('a store verification cannot open a second connection to', () => {
  test('is verified through the driver interface, one chunk after another', async () => {
    const { signerKey, verifierKey } = await generateSignerKey('example.com/memory');
    const driver = openSqliteDriver({ path: ':memory:' });
    await driver.putMeta('origin', 'example.com/memory');
    const log = await openLog({ driver, signer: await createSigner(signerKey), historyInterval: 0 });
    for (let i = 0; i < 300; i += 100) await log.append(Array.from({ length: 100 }, (_, j) => event(i + j)));
    const verifier = await createVerifier(verifierKey);
    const results = [await verifyLog({ driver, verifier, origin: 'example.com/memory' }), await verifyLog({ driver, verifier, origin: 'example.com/memory', chunk: 64 })];
    expect(results).toEqual([results[0], results[0]]);
    expect(results[0]).toMatchObject({ ok: true, size: 300 });
    expect(results[0]).toMatchObject({ root: Buffer.from(await log.root(300)).toString('base64') });
    await log.close();
  });
});
