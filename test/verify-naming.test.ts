/**
 * What `stele verify` names, end to end on a real log: a changed entry is
 * named as what no longer matches the signed tree, not as damage to the
 * query index or to a stored hash; those are named so only when the entries
 * agree with the signed checkpoints. And `--against` says what it checked.
 *
 * The log: 15 entries (a checkpoint saved elsewhere at 15), then 700 in one
 * append, so its signed roots are at 15 and 715 only, and the stored level-8
 * hash of [256, 512) is the first thing above entry 300 that the walk meets.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { nodeHasher } from '@stele/store';
import { removeTempDirs, requireBuild, seedLog, stele, steleJson, tamper, tempDir } from './helpers.js';

type VerifyJson =
  | { ok: true; size: number; root: string }
  | { ok: false; index: number | null; code: string; message: string };

let pristine: string;
/** The checkpoint at size 15, as `stele proof` printed it then, in a file outside the data directory. */
let saved15: string;

/** The latest checkpoint of the log in `dir`, as `stele proof` prints it, saved to a file. */
async function saveCheckpoint(dir: string): Promise<{ file: string; size: number }> {
  const { code, json } = await steleJson<{ checkpoint: string; size: number }>(['proof', '--index', '0', '--json', '--dir', dir]);
  expect(code).toBe(0);
  const file = join(tempDir('saved'), `checkpoint-${json.size}`);
  writeFileSync(file, json.checkpoint);
  return { file, size: json.size };
}

beforeAll(async () => {
  requireBuild();
  pristine = join(tempDir('naming'), 'log');
  await seedLog(pristine, 15);
  const saved = await saveCheckpoint(pristine);
  expect(saved.size).toBe(15);
  saved15 = saved.file;
  await seedLog(pristine, 700, { from: 15, batch: 700 });
});

afterAll(removeTempDirs);

function copyLog(): string {
  const dir = join(tempDir('naming'), 'log');
  cpSync(pristine, dir, { recursive: true });
  return dir;
}

const verifyJson = (dir: string, ...extra: string[]) => steleJson<VerifyJson>(['verify', '--json', '--dir', dir, ...extra]);

/** The finding as one object: exit code, code, index, message. */
async function finding(dir: string, ...extra: string[]) {
  const { code: exit, json } = await verifyJson(dir, ...extra);
  return json.ok ? { exit, ok: true } : { exit, code: json.code, index: json.index, message: json.message };
}

/** Entry 300 is bob's file.save of /home/bob/src/stele/f300.ts: "f300" occurs in it and in its unit's document, nowhere else there. */
const FROM = 'f300';
const TO = 'f999';

/** Rewrites entry 300 with FROM replaced by TO, and its leaf hash to match: the entry is consistent in itself. */
function changeEntry300(db: Database.Database): void {
  const text = (db.prepare('SELECT data FROM entries WHERE idx = 300').pluck().get() as Buffer).toString('utf8');
  expect(text.split(FROM)).toHaveLength(3); // target id and name
  const data = Buffer.from(text.replaceAll(FROM, TO), 'utf8');
  db.prepare('UPDATE entries SET data = ?, leaf_hash = ? WHERE idx = 300').run(data, Buffer.from(nodeHasher.hashLeaf(data)));
}

/** Makes the full-text document of entry 300's unit say TO where it says FROM. */
function changeIndex300(db: Database.Database): void {
  const first = db.prepare('SELECT first FROM units WHERE first <= 300 AND last >= 300').pluck().get() as number;
  const doc = db.prepare('SELECT doc FROM unit_text WHERE rowid = ?').pluck().get(first) as string;
  expect(doc.split(FROM)).toHaveLength(3);
  db.prepare('UPDATE unit_text SET doc = ? WHERE rowid = ?').run(doc.replaceAll(FROM, TO), first);
}

describe('the pristine log', () => {
  test('verifies, with signed roots at 15 and 715 only', async () => {
    expect(await verifyJson(pristine)).toMatchObject({ code: 0, json: { ok: true, size: 715 } });
    const db = new Database(join(pristine, 'stele.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT size FROM checkpoints ORDER BY size').pluck().all()).toEqual([15, 715]);
    } finally {
      db.close();
    }
  });
});

describe('a changed entry is named as differing from what was signed', () => {
  test('entry 300 and its leaf hash rewritten, index untouched: ERR_CHECKPOINT_ROOT_MISMATCH at 300, not an index finding', async () => {
    const dir = copyLog();
    tamper(dir, changeEntry300);
    const found = await finding(dir);
    expect(found).toMatchObject({ exit: 1, code: 'ERR_CHECKPOINT_ROOT_MISMATCH', index: 300 });
    // The range the stored tile-level hash pins the change to, against the signed root at 715, and the entry the index points at.
    expect(found.message).toContain('checkpoint at size 715 does not match the entries');
    expect(found.message).toContain('an entry in [256, 512) differs from what was signed');
    expect(found.message).toContain('entry 300');
    expect(found.message).toContain('index row');
  });

  test('the same with the index made to match: ERR_CHECKPOINT_ROOT_MISMATCH at 256, the stored hash not blamed', async () => {
    const dir = copyLog();
    tamper(dir, (db) => {
      changeEntry300(db);
      changeIndex300(db);
    });
    const found = await finding(dir);
    expect(found).toMatchObject({ exit: 1, code: 'ERR_CHECKPOINT_ROOT_MISMATCH', index: 256 });
    expect(found.message).toContain('an entry in [256, 512) differs from what was signed');
    expect(found.message).toContain('the entries under it do not');
    expect(found.message).not.toContain('is wrong');
    // The human line says the same.
    const plain = await stele(['verify', '--dir', dir]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toMatch(/^FAILED at index 256: ERR_CHECKPOINT_ROOT_MISMATCH: the checkpoint at size 715 does not match the entries: an entry in \[256, 512\) differs/);
  });
});

describe('damage outside the entries is named as such while the entries agree with the signed tree', () => {
  test("only entry 300's words in the full-text index changed: ERR_INDEX_MISMATCH at 300", async () => {
    const dir = copyLog();
    tamper(dir, changeIndex300);
    const found = await finding(dir);
    expect(found).toMatchObject({ exit: 1, code: 'ERR_INDEX_MISMATCH', index: 300 });
    expect(found.message).not.toContain('signed');
  });

  test('only the stored level-8 hash of [256, 512) changed: ERR_TREE_HASH_MISMATCH at 256, the stored hash is wrong', async () => {
    const dir = copyLog();
    tamper(dir, (db) => expect(db.prepare('UPDATE tree_hashes SET hash = zeroblob(32) WHERE level = 8 AND idx = 1').run().changes).toBe(1));
    const found = await finding(dir);
    expect(found).toMatchObject({ exit: 1, code: 'ERR_TREE_HASH_MISMATCH', index: 256 });
    expect(found.message).toContain('the stored hash of the subtree of level 8 starting at index 256 is wrong: the hash of its entries fits the checkpoint at size 715');
  });
});

describe('--against', () => {
  test('success says the saved checkpoint was checked; --json keeps its form', async () => {
    const dir = copyLog();
    const plain = await stele(['verify', '--dir', dir, '--against', saved15]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^ok: 715 entries verified; root [A-Za-z0-9+/]{43}=; extends the saved checkpoint at size 15\n$/);
    const without = await stele(['verify', '--dir', dir]);
    expect(without.stdout).toMatch(/^ok: 715 entries verified; root [A-Za-z0-9+/]{43}=\n$/);
    const { code, stdout } = await stele(['verify', '--json', '--dir', dir, '--against', saved15]);
    expect(code).toBe(0);
    expect(Object.keys(JSON.parse(stdout) as object)).toEqual(['ok', 'size', 'root']);
    expect(stdout).toBe(`{"ok":true,"size":715,"root":"${/root ([^;\s]+)/.exec(plain.stdout)![1]}"}\n`);
  });

  test('a saved checkpoint of the same size: "matches"', async () => {
    const dir = copyLog();
    const saved = await saveCheckpoint(dir);
    const plain = await stele(['verify', '--dir', dir, '--against', saved.file]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/; matches the saved checkpoint at size 715\n$/);
  });

  test('a fork at entry 715: ERR_AGAINST_INCONSISTENT with no index, the range said honestly', async () => {
    // Both copies hold the same 715 entries and key; each then appends a different entry 715.
    const ours = copyLog();
    const theirs = copyLog();
    await seedLog(theirs, 1, { from: 715 });
    await seedLog(ours, 2, { from: 716 });
    const saved = await saveCheckpoint(theirs);
    expect(saved.size).toBe(716);
    const found = await finding(ours, '--against', saved.file);
    expect(found).toMatchObject({ exit: 1, code: 'ERR_AGAINST_INCONSISTENT', index: null });
    expect(found.message).toContain('does not extend the saved checkpoint at size 716');
    expect(found.message).toContain('an entry in [0, 716) differs');
    const plain = await stele(['verify', '--dir', ours, '--against', saved.file]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toMatch(/^FAILED: ERR_AGAINST_INCONSISTENT: the log does not extend the saved checkpoint at size 716: an entry in \[0, 716\) differs/);
    expect(plain.stdout).not.toContain('at index');
  });
});
