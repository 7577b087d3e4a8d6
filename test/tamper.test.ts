/**
 * The tamper suite. A pristine log of 600 entries (checkpoints at 100, 200,
 * ..., 600 in the history) is copied per case; each case edits the copy's
 * SQLite file as an attacker with file access would (dropping the
 * append-only triggers first) and then runs the real `stele verify --json`,
 * which must exit 1 and name the exact first index and code.
 */
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { CompactRange, createSigner, formatCheckpoint, hashNodes, signNote } from '@stele/log';
import { nodeHasher, openStore } from '@stele/store';
import { openRaw, removeTempDirs, requireBuild, seedEvent, seedLog, stele, steleJson, tamper, tempDir } from './helpers.js';

type VerifyJson =
  | { ok: true; size: number; root: string }
  | { ok: false; index: number | null; code: string; message: string };

const ORIGIN = 'example.com/stele-e2e';
let pristine: string;
let otherLog: string;
let otherKey: string;

beforeAll(async () => {
  requireBuild();
  pristine = join(tempDir('pristine'), 'log');
  await seedLog(pristine, 600, { origin: ORIGIN });
  // Another log with the same origin name but its own key: what a forger would sign with.
  otherLog = join(tempDir('other'), 'log');
  otherKey = (await seedLog(otherLog, 100, { origin: ORIGIN })).verifierKey;
});

afterAll(removeTempDirs);

/** A fresh copy of the pristine log (the whole directory: the database and both keys). */
function copyLog(from = pristine): string {
  const dir = join(tempDir('tamper'), 'log');
  cpSync(from, dir, { recursive: true });
  return dir;
}

function verify(dir: string, ...extra: string[]) {
  return steleJson<VerifyJson>(['verify', '--json', '--dir', dir, ...extra]);
}

/** `stele verify` exits 1 and reports exactly this first failure. */
async function expectFinding(dir: string, index: number | null, code: string, ...extra: string[]): Promise<void> {
  const { code: exit, json } = await verify(dir, ...extra);
  expect({ exit, ok: json.ok, index: json.ok ? undefined : json.index, code: json.ok ? undefined : json.code }).toEqual({ exit: 1, ok: false, index, code });
}

const entryData = (db: Database.Database, idx: number): Buffer => db.prepare('SELECT data FROM entries WHERE idx = ?').pluck().get(idx) as Buffer;

/**
 * Entry `idx` with `from` replaced by `to`: the two must have the same length
 * and differ in exactly one byte, and `from` must occur exactly once.
 */
function oneByteEdit(db: Database.Database, idx: number, from: string, to: string): Buffer {
  const text = entryData(db, idx).toString('utf8');
  expect(text.split(from).length, `${JSON.stringify(from)} occurs once in entry ${idx}`).toBe(2);
  expect(from.length).toBe(to.length);
  expect([...from].filter((c, i) => c !== to[i])).toHaveLength(1);
  return Buffer.from(text.replace(from, to), 'utf8');
}

function writeEntry(db: Database.Database, idx: number, data: Buffer, rehash: boolean): void {
  db.prepare('UPDATE entries SET data = ? WHERE idx = ?').run(data, idx);
  if (rehash) db.prepare('UPDATE entries SET leaf_hash = ? WHERE idx = ?').run(Buffer.from(nodeHasher.hashLeaf(data)), idx);
}

/**
 * Puts back the append-only triggers `tamper` dropped, copied from the
 * pristine log, as an attacker covering their tracks would: `stele verify`
 * reports dropped ones (ERR_GUARDS_MISSING), so a change meant to pass plain
 * verify needs them back.
 */
function restoreGuards(db: Database.Database): void {
  const source = new Database(join(pristine, 'stele.db'), { readonly: true });
  try {
    for (const sql of source.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[]) db.exec(sql);
  } finally {
    source.close();
  }
}

const historyNote = (db: Database.Database, size: number): string =>
  db.prepare('SELECT note FROM checkpoints WHERE size = ?').pluck().get(size) as string;

/** A note with its root line replaced by another valid root, signature kept. */
function withOtherRoot(note: string): string {
  const lines = note.split('\n');
  const root = Buffer.from(lines[2]!, 'base64');
  root[0]! ^= 0x01;
  lines[2] = root.toString('base64');
  return lines.join('\n');
}

/** A note with one byte of the Ed25519 signature (past the 4-byte key id) flipped. */
function withFlippedSignature(note: string): string {
  const lines = note.trimEnd().split('\n');
  const last = lines.pop()!;
  const at = last.lastIndexOf(' ');
  const sig = Buffer.from(last.slice(at + 1), 'base64');
  sig[4 + 10]! ^= 0x01;
  return [...lines, `${last.slice(0, at + 1)}${sig.toString('base64')}`].join('\n') + '\n';
}

/** Entry 100 is a git vc.commit of bob's; these strings occur once in it. */
const E100 = {
  targetId: ['ops/repo0.git', 'ops/repo1.git'],
  reason: ['OPS-1100', 'OPS-1101'],
  seq: ['"seq":101}', '"seq":102}'],
} as const;

describe('the pristine log', () => {
  test('has every batch checkpoint in its history and only the database and keys on disk', () => {
    // Closing the store checkpoints the WAL, so copying the directory copies the whole log.
    expect(readdirSync(pristine).sort()).toEqual(['signer.key', 'stele.db', 'verifier.key']);
    const db = openRaw(copyLog());
    try {
      expect(db.prepare('SELECT size FROM checkpoints ORDER BY size').pluck().all()).toEqual([100, 200, 300, 400, 500, 600]);
      expect(db.prepare('SELECT size FROM checkpoint_latest').pluck().get()).toBe(600);
      // Query-index units tile the log within blocks of 64 and start where each seeded append does, as the index cases below assume.
      const units = db.prepare('SELECT first, last FROM units ORDER BY first').raw().all() as [number, number][];
      expect(units.map(([first, last], i) => first === (units[i - 1]?.[1] ?? -1) + 1 && Math.floor(first / 64) === Math.floor(last / 64))).not.toContain(false);
      expect(units.at(-1)![1]).toBe(599);
      expect(units.map(([first]) => first)).toEqual(expect.arrayContaining([0, 100, 200, 300, 400, 500]));
      expect(units.find(([first]) => first === 300)).toEqual([300, 319]);
      expect(entryData(db, 100).toString('utf8')).toContain('"action":"vc.commit"');
    } finally {
      db.close();
    }
  });

  test('a copy verifies: exit 0 and {ok:true,size:600}', async () => {
    const { code, json } = await verify(copyLog());
    expect(code).toBe(0);
    expect(json).toMatchObject({ ok: true, size: 600 });
  });
});

describe('entries', () => {
  test('one byte of entry 100 changed: ERR_LEAF_HASH_MISMATCH at 100', async () => {
    const dir = copyLog();
    tamper(dir, (db) => writeEntry(db, 100, oneByteEdit(db, 100, ...E100.targetId), false));
    await expectFinding(dir, 100, 'ERR_LEAF_HASH_MISMATCH');
  });

  test('one byte of an indexed field (target id) changed and the leaf hash rewritten: ERR_CHECKPOINT_ROOT_MISMATCH at 100', async () => {
    // The unit at 100 holds the old target among entry 100's words, so the
    // query index disagrees with entry 100 before the walk reaches the
    // checkpoint at 200. But the entries no longer reproduce that signed
    // root: the finding is a changed entry (the one the index points at),
    // not damage to the index.
    const dir = copyLog();
    tamper(dir, (db) => writeEntry(db, 100, oneByteEdit(db, 100, ...E100.targetId), true));
    await expectFinding(dir, 100, 'ERR_CHECKPOINT_ROOT_MISMATCH');
  });

  test('one byte of the reason changed and the leaf hash rewritten: ERR_CHECKPOINT_ROOT_MISMATCH at 100', async () => {
    // The reason's words are in entry 100's segment of its unit's
    // full-text document, which no longer matches ('1101' is new); nor do
    // the entries reproduce the checkpoint at 200.
    const dir = copyLog();
    tamper(dir, (db) => writeEntry(db, 100, oneByteEdit(db, 100, ...E100.reason), true));
    await expectFinding(dir, 100, 'ERR_CHECKPOINT_ROOT_MISMATCH');
  });

  test('one byte of a field no index covers (device.seq) changed and the leaf hash rewritten: ERR_CHECKPOINT_ROOT_MISMATCH at 100', async () => {
    // Nothing per entry can catch this: the entry is canonical, its leaf hash
    // matches, the index row is the same. The tree catches it. The stored
    // level-8 hash of [0, 256) would mismatch once leaf 255 is appended, but
    // the signed checkpoint at size 200 is reached first, so verify reports
    // ERR_CHECKPOINT_ROOT_MISMATCH with the start of the range that differs
    // from what was signed: [100, 200), index 100 (checkpoint 100 still holds).
    const dir = copyLog();
    tamper(dir, (db) => writeEntry(db, 100, oneByteEdit(db, 100, ...E100.seq), true));
    await expectFinding(dir, 100, 'ERR_CHECKPOINT_ROOT_MISMATCH');
  });

  test('the same, with the history checkpoints from 200 on deleted: ERR_CHECKPOINT_ROOT_MISMATCH at 100', async () => {
    // Without the signed checkpoint at 200 in the way, the stored level-8
    // hash of [0, 256) is the first thing that disagrees, once leaf 255 is
    // in. The stored hashes reproduce the latest checkpoint's root and the
    // entries do not: the entries changed, in [100, 256) (the checkpoint at
    // 100 holds), not the stored hash.
    const dir = copyLog();
    tamper(dir, (db) => {
      writeEntry(db, 100, oneByteEdit(db, 100, ...E100.seq), true);
      db.prepare('DELETE FROM checkpoints WHERE size >= 200').run();
    });
    await expectFinding(dir, 100, 'ERR_CHECKPOINT_ROOT_MISMATCH');
    const { json } = await verify(dir);
    expect(json.ok ? '' : json.message).toContain('an entry in [100, 256) differs from what was signed');
  });

  test('the same, with the level-8 hashes recomputed too: the latest checkpoint catches it, ERR_CHECKPOINT_ROOT_MISMATCH at 100', async () => {
    const dir = copyLog();
    tamper(dir, (db) => {
      writeEntry(db, 100, oneByteEdit(db, 100, ...E100.seq), true);
      db.prepare('DELETE FROM checkpoints WHERE size >= 200').run();
      const leaves = (db.prepare('SELECT leaf_hash FROM entries WHERE idx < 512 ORDER BY idx').pluck().all() as Buffer[]).map((b) => new Uint8Array(b));
      for (const k of [0, 1]) {
        const hash = hashNodes(nodeHasher, leaves.slice(k * 256, (k + 1) * 256));
        db.prepare('UPDATE tree_hashes SET hash = ? WHERE level = 8 AND idx = ?').run(Buffer.from(hash), k);
      }
    });
    await expectFinding(dir, 100, 'ERR_CHECKPOINT_ROOT_MISMATCH');
  });

  test('entry 100 rewritten non-canonically (same record, a space added) with its leaf hash: ERR_ENTRY_NOT_CANONICAL at 100', async () => {
    const dir = copyLog();
    tamper(dir, (db) => {
      const text = entryData(db, 100).toString('utf8');
      expect(text.startsWith('{"action"')).toBe(true);
      writeEntry(db, 100, Buffer.from(`{ ${text.slice(1)}`, 'utf8'), true);
    });
    await expectFinding(dir, 100, 'ERR_ENTRY_NOT_CANONICAL');
  });

  test("entry 100's id column changed: ERR_ENTRY_ID_MISMATCH at 100", async () => {
    const dir = copyLog();
    tamper(dir, (db) => db.prepare("UPDATE entries SET id = 'forged-id' WHERE idx = 100").run());
    await expectFinding(dir, 100, 'ERR_ENTRY_ID_MISMATCH');
  });

  test('entry 200 deleted: ERR_ENTRY_MISSING at 200', async () => {
    const dir = copyLog();
    tamper(dir, (db) => db.prepare('DELETE FROM entries WHERE idx = 200').run());
    await expectFinding(dir, 200, 'ERR_ENTRY_MISSING');
  });

  test('entries 10 and 20 swapped (data, id and leaf hash): ERR_ENTRY_INDEX_MISMATCH at 10', async () => {
    const dir = copyLog();
    tamper(dir, (db) => {
      const get = db.prepare('SELECT id, leaf_hash, data FROM entries WHERE idx = ?');
      const a = get.get(10) as { id: string; leaf_hash: Buffer; data: Buffer };
      const b = get.get(20) as { id: string; leaf_hash: Buffer; data: Buffer };
      const put = db.prepare('UPDATE entries SET id = ?, leaf_hash = ?, data = ? WHERE idx = ?');
      put.run('swap-tmp', b.leaf_hash, b.data, 10); // ids are UNIQUE: park one first
      put.run(a.id, a.leaf_hash, a.data, 20);
      db.prepare('UPDATE entries SET id = ? WHERE idx = 10').run(b.id);
    });
    await expectFinding(dir, 10, 'ERR_ENTRY_INDEX_MISMATCH');
  });

  /**
   * Entries from 550 on removed. The query index is left alone:
   * verification checks a unit's index once the walk has covered the whole
   * unit, and the walk stops first.
   */
  const truncate = (db: Database.Database) => db.prepare('DELETE FROM entries WHERE idx >= 550').run();

  test('the tail from 550 removed: ERR_ENTRY_MISSING at 550', async () => {
    const dir = copyLog();
    tamper(dir, (db) => truncate(db));
    await expectFinding(dir, 550, 'ERR_ENTRY_MISSING');
  });

  test("the tail from 550 removed and checkpoint_latest's size column patched to 550: ERR_CHECKPOINT_MALFORMED at 549", async () => {
    // The store opens now (sizes agree), but the latest row's note still says
    // 600: the row contradicts its own signed note, found when the walk reaches 549.
    const dir = copyLog();
    tamper(dir, (db) => {
      truncate(db);
      db.prepare('UPDATE checkpoint_latest SET size = 550').run();
    });
    await expectFinding(dir, 549, 'ERR_CHECKPOINT_MALFORMED');
  });
});

describe('checkpoints', () => {
  test("a history checkpoint's root line changed, signature kept: ERR_CHECKPOINT_SIGNATURE at 299", async () => {
    const dir = copyLog();
    tamper(dir, (db) => db.prepare('UPDATE checkpoints SET note = ? WHERE size = 300').run(withOtherRoot(historyNote(db, 300))));
    await expectFinding(dir, 299, 'ERR_CHECKPOINT_SIGNATURE');
  });

  test("one byte of a history checkpoint's signature flipped: ERR_CHECKPOINT_SIGNATURE at 399", async () => {
    const dir = copyLog();
    tamper(dir, (db) => db.prepare('UPDATE checkpoints SET note = ? WHERE size = 400').run(withFlippedSignature(historyNote(db, 400))));
    await expectFinding(dir, 399, 'ERR_CHECKPOINT_SIGNATURE');
  });

  test("checkpoint_latest's note changed (root line): ERR_CHECKPOINT_SIGNATURE at 599", async () => {
    const dir = copyLog();
    tamper(dir, (db) => db.prepare('UPDATE checkpoint_latest SET note = ?').run(withOtherRoot(historyNote(db, 600))));
    await expectFinding(dir, 599, 'ERR_CHECKPOINT_SIGNATURE');
  });

  test('checkpoint_latest replaced by the genuine note of size 500, size column left at 600: ERR_CHECKPOINT_MALFORMED at 599', async () => {
    const dir = copyLog();
    tamper(dir, (db) => db.prepare('UPDATE checkpoint_latest SET note = ?').run(historyNote(db, 500)));
    await expectFinding(dir, 599, 'ERR_CHECKPOINT_MALFORMED');
  });

  test("--key with another log's verifier key (same origin name): ERR_CHECKPOINT_SIGNATURE at 99", async () => {
    await expectFinding(copyLog(), 99, 'ERR_CHECKPOINT_SIGNATURE', '--key', otherKey);
    const keyFile = join(tempDir('key'), 'other.key');
    writeFileSync(keyFile, otherKey + '\n');
    await expectFinding(copyLog(), 99, 'ERR_CHECKPOINT_SIGNATURE', '--key', keyFile);
  });

  test("--key with the log's own key pinned verifies", async () => {
    const dir = copyLog();
    const key = readFileSync(join(dir, 'verifier.key'), 'utf8').trim();
    const { code, json } = await verify(dir, '--key', key);
    expect(code).toBe(0);
    expect(json).toMatchObject({ ok: true, size: 600 });
  });
});

/**
 * The SQLite driver keeps its query index in units of at most 64 entries of
 * one commit (unitIndex.ts): a row in `units` (first, last, time range) and
 * one full-text document in the FTS5 table `unit_text` (rowid = first), one
 * newline-separated segment per entry holding its indexed fields and free
 * text. Verification recomputes all of it from the entries.
 */
describe('the query index', () => {
  /** Entry 300 is bob's file.save of /home/bob/src/stele/f300.ts, the first of the unit at 300. */
  const BOB = 'bob@example.com';
  const docOf = (db: Database.Database, first: number) => db.prepare('SELECT doc FROM unit_text WHERE rowid = ?').pluck().get(first) as string;
  /** The unit document at 300 with entry 300's segment edited, written through FTS5 (no guard to drop: FTS5 stays self-consistent). */
  const editSegment = (db: Database.Database, edit: (segment: string) => string) => {
    const [first, ...rest] = docOf(db, 300).split('\n');
    const edited = edit(first!);
    expect(edited).not.toBe(first);
    db.prepare('UPDATE unit_text SET doc = ? WHERE rowid = 300').run([edited, ...rest].join('\n'));
  };

  test("bob's address removed from entry 300's words (hidden from --actor): ERR_INDEX_MISMATCH at 300", async () => {
    const dir = copyLog();
    tamper(dir, (db) => editSegment(db, (segment) => segment.replace(BOB, '')));
    await expectFinding(dir, 300, 'ERR_INDEX_MISMATCH');
  });

  test("the actor renamed in entry 300's words (bob to mallory): ERR_INDEX_MISMATCH at 300", async () => {
    const dir = copyLog();
    tamper(dir, (db) => editSegment(db, (segment) => segment.replaceAll('bob', 'mallory')));
    await expectFinding(dir, 300, 'ERR_INDEX_MISMATCH');
  });

  test("entry 300's target removed from its words: ERR_INDEX_MISMATCH at 300", async () => {
    const dir = copyLog();
    tamper(dir, (db) => editSegment(db, (segment) => segment.replace('/home/bob/src/stele/f300.ts', '')));
    await expectFinding(dir, 300, 'ERR_INDEX_MISMATCH');
  });

  test("the words of entries 300 and 301 swapped: ERR_INDEX_MISMATCH at 300", async () => {
    const dir = copyLog();
    tamper(dir, (db) => {
      const [a, b, ...rest] = docOf(db, 300).split('\n');
      db.prepare('UPDATE unit_text SET doc = ? WHERE rowid = 300').run([b, a, ...rest].join('\n'));
    });
    await expectFinding(dir, 300, 'ERR_INDEX_MISMATCH');
  });

  test('the unit row at 300 deleted: ERR_INDEX_MISMATCH at 300', async () => {
    const dir = copyLog();
    tamper(dir, (db) => expect(db.prepare('DELETE FROM units WHERE first = 300').run().changes).toBe(1));
    await expectFinding(dir, 300, 'ERR_INDEX_MISMATCH');
  });

  test('the time range of the unit at 300 shrunk to its first event (hidden from --since/--until): ERR_INDEX_MISMATCH at 301', async () => {
    // Seeded times rise by a second per entry: entry 300 is still inside the range, 301 is the first outside.
    const dir = copyLog();
    tamper(dir, (db) => db.prepare('UPDATE units SET max_time = min_time WHERE first = 300').run());
    await expectFinding(dir, 301, 'ERR_INDEX_MISMATCH');
  });

  test('an index unit beyond the log added: ERR_INDEX_MISMATCH at 600', async () => {
    const dir = copyLog();
    tamper(dir, (db) => db.prepare('INSERT INTO units (first, last, min_time, max_time) SELECT 600, 600, max_time, max_time FROM units WHERE first = 576').run());
    await expectFinding(dir, 600, 'ERR_INDEX_MISMATCH');
  });

  test("a word of entry 300 removed from the unit's full-text document (hidden from --text): ERR_INDEX_MISMATCH at 300", async () => {
    const dir = copyLog();
    tamper(dir, (db) => editSegment(db, (segment) => segment.replaceAll('f300', '')));
    await expectFinding(dir, 300, 'ERR_INDEX_MISMATCH');
  });

  test('the full-text document of the unit at 300 deleted: ERR_INDEX_MISMATCH at 300', async () => {
    const dir = copyLog();
    tamper(dir, (db) => expect(db.prepare('DELETE FROM unit_text WHERE rowid = 300').run().changes).toBe(1));
    await expectFinding(dir, 300, 'ERR_INDEX_MISMATCH');
  });

  // better-sqlite3 runs SQLite in defensive mode, which guards FTS5 shadow tables; an attacker turns it off.
  test("an FTS5 shadow table edited (a row of the seek index, unit_text_idx, pointed elsewhere): ERR_INDEX_MISMATCH, no index", async () => {
    const dir = copyLog();
    tamper(dir, (db) => {
      db.unsafeMode(true);
      expect(db.prepare("UPDATE unit_text_idx SET term = CAST('m' AS BLOB) WHERE segid = (SELECT min(segid) FROM unit_text_idx)").run().changes).toBe(1);
    });
    await expectFinding(dir, null, 'ERR_INDEX_MISMATCH');
  });

  test('the FTS5 inverted index (unit_text_data) corrupted: ERR_INDEX_MISMATCH, no index', async () => {
    const dir = copyLog();
    tamper(dir, (db) => {
      db.unsafeMode(true);
      const row = db.prepare('SELECT id, block FROM unit_text_data WHERE id > 10 ORDER BY id LIMIT 1').get() as { id: number; block: Buffer };
      const block = Buffer.from(row.block);
      block[block.length - 3]! ^= 0x01;
      db.prepare('UPDATE unit_text_data SET block = ? WHERE id = ?').run(block, row.id);
    });
    await expectFinding(dir, null, 'ERR_INDEX_MISMATCH');
  });

  test("the stored document of the unit at 300 edited in the shadow table (unit_text_content): ERR_INDEX_MISMATCH at 300", async () => {
    const dir = copyLog();
    tamper(dir, (db) => {
      db.unsafeMode(true);
      const doc = docOf(db, 300).replace('f300', 'f999');
      expect(db.prepare('UPDATE unit_text_content SET c0 = ? WHERE id = 300').run(doc).changes).toBe(1);
    });
    await expectFinding(dir, 300, 'ERR_INDEX_MISMATCH');
  });
});

describe('tile-level hashes', () => {
  test('tree_hashes level 8 index 1 changed: ERR_TREE_HASH_MISMATCH at 256', async () => {
    const dir = copyLog();
    tamper(dir, (db) => {
      expect(db.prepare('UPDATE tree_hashes SET hash = zeroblob(32) WHERE level = 8 AND idx = 1').run().changes).toBe(1);
    });
    await expectFinding(dir, 256, 'ERR_TREE_HASH_MISMATCH');
  });

  test('tree_hashes level 8 index 0 deleted: ERR_TREE_HASH_MISSING at 0', async () => {
    const dir = copyLog();
    tamper(dir, (db) => db.prepare('DELETE FROM tree_hashes WHERE level = 8 AND idx = 0').run());
    await expectFinding(dir, 0, 'ERR_TREE_HASH_MISSING');
  });

  test('a log whose stored tree hashes contradict its latest checkpoint refuses appends', async () => {
    const dir = copyLog();
    tamper(dir, (db) => db.prepare('UPDATE tree_hashes SET hash = zeroblob(32) WHERE level = 8 AND idx = 1').run());
    const appended = await stele(['append', '--json', '--dir', dir], { input: JSON.stringify(seedEvent(600)) + '\n' });
    expect(appended.code).toBe(2);
    const opened = await openStore(dir).then(
      async (store) => {
        await store.log.close();
        return { code: 'opened' };
      },
      (err: unknown) => err,
    );
    expect(opened).toMatchObject({ code: 'ERR_STORE_CORRUPT' });
  });
});

describe('rollback and --against', () => {
  /** The latest checkpoint as `stele proof` prints it, saved to a file elsewhere. */
  async function saveCheckpoint(dir: string, size?: number): Promise<string> {
    const { code, json } = await steleJson<{ checkpoint: string; size: number }>(['proof', '--index', '0', '--json', '--dir', dir, ...(size ? ['--size', String(size)] : [])]);
    expect(code).toBe(0);
    const file = join(tempDir('saved'), `checkpoint-${json.size}`);
    writeFileSync(file, json.checkpoint);
    return file;
  }

  test('a log rolled back to 500 with its own checkpoints passes plain verify but not --against the saved 600', async () => {
    const dir = copyLog();
    const saved = await saveCheckpoint(dir);
    expect(readFileSync(saved, 'utf8').split('\n')[1]).toBe('600');
    tamper(dir, (db) => {
      db.prepare('DELETE FROM entries WHERE idx >= 500').run();
      db.prepare('DELETE FROM units WHERE first >= 500').run();
      db.prepare('DELETE FROM unit_text WHERE rowid >= 500').run();
      db.prepare('DELETE FROM tree_hashes WHERE (idx + 1) << level > 500').run();
      db.prepare('DELETE FROM checkpoints WHERE size > 500').run();
      db.prepare('UPDATE checkpoint_latest SET size = c.size, created = c.created, note = c.note FROM (SELECT * FROM checkpoints WHERE size = 500) AS c').run();
      restoreGuards(db);
    });
    const plain = await verify(dir);
    expect(plain.code).toBe(0);
    expect(plain.json).toMatchObject({ ok: true, size: 500 });
    await expectFinding(dir, 500, 'ERR_AGAINST_ROLLBACK', '--against', saved);
  });

  test('genuine saved checkpoints (latest and from the history) pass --against after more appends', async () => {
    const dir = copyLog();
    const saved600 = await saveCheckpoint(dir);
    const saved300 = await saveCheckpoint(dir, 300);
    await seedLog(dir, 50, { from: 600 });
    for (const saved of [saved600, saved300]) {
      const { code, json } = await verify(dir, '--against', saved);
      expect(code).toBe(0);
      expect(json).toMatchObject({ ok: true, size: 650 });
    }
  });

  test("a checkpoint signed by another log's key (same origin name) fails --against: ERR_AGAINST_SIGNATURE", async () => {
    const foreign = await saveCheckpoint(otherLog);
    const dir = copyLog();
    await expectFinding(dir, null, 'ERR_AGAINST_SIGNATURE', '--against', foreign);
    // Without --json, a finding that no index names says so without a placeholder index.
    const plain = await stele(['verify', '--dir', dir, '--against', foreign]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toMatch(/^FAILED: ERR_AGAINST_SIGNATURE: /);
  });

  test('a file that is not a signed checkpoint is refused as --against with exit 2, naming the file', async () => {
    const dir = tempDir('saved');
    const note = join(dir, 'not-a-note');
    writeFileSync(note, 'hello\n');
    // A signed note whose text is not a checkpoint: the right form of file, the wrong kind.
    const other = join(dir, 'not-a-checkpoint');
    writeFileSync(other, readFileSync(await saveCheckpoint(copyLog()), 'utf8').replace(/^[^\n]*\n\d+\n/, 'hello\nworld\n'));
    for (const file of [note, other]) {
      const { code, stdout, stderr } = await stele(['verify', '--dir', copyLog(), '--against', file, '--json']);
      expect({ code, stdout, lines: stderr.trimEnd().split('\n').length }).toEqual({ code: 2, stdout: '', lines: 1 });
      expect(stderr).toContain(`--against ${file} is not a signed checkpoint`);
    }
  });

  test('a saved checkpoint with its root line changed fails --against: ERR_AGAINST_SIGNATURE', async () => {
    const saved = await saveCheckpoint(copyLog());
    writeFileSync(saved, withOtherRoot(readFileSync(saved, 'utf8')));
    await expectFinding(copyLog(), null, 'ERR_AGAINST_SIGNATURE', '--against', saved);
  });

  /**
   * An attacker who also stole signer.key: changes entry 100 (a byte of
   * device.seq, no index covers it), rewrites its leaf hash, recomputes every
   * tile-level hash and re-signs every checkpoint. Only a checkpoint kept
   * elsewhere can tell.
   */
  async function forgeWithStolenKey(dir: string): Promise<void> {
    const signer = await createSigner(readFileSync(join(dir, 'signer.key'), 'utf8').trim());
    const db = openRaw(dir);
    try {
      writeEntry(db, 100, oneByteEdit(db, 100, ...E100.seq), true);
      const leaves = db.prepare('SELECT leaf_hash FROM entries ORDER BY idx').pluck().all() as Buffer[];
      const sizes = new Set(db.prepare('SELECT size FROM checkpoints').pluck().all() as number[]);
      const setHash = db.prepare('UPDATE tree_hashes SET hash = ? WHERE level = ? AND idx = ?');
      const range = CompactRange.empty(nodeHasher);
      const notes = new Map<number, string>();
      for (const leaf of leaves) {
        range.append(new Uint8Array(leaf), (level, index, hash) => {
          if (level > 0 && level % 8 === 0) setHash.run(Buffer.from(hash), level, index);
        });
        if (sizes.has(range.size)) {
          notes.set(range.size, await signNote(formatCheckpoint({ origin: ORIGIN, size: range.size, root: range.root(), extensions: [] }), signer));
        }
      }
      for (const [size, note] of notes) db.prepare('UPDATE checkpoints SET note = ? WHERE size = ?').run(note, size);
      db.prepare('UPDATE checkpoint_latest SET note = ?').run(notes.get(600));
      restoreGuards(db);
    } finally {
      db.close();
    }
  }

  test('history rewritten with the stolen signer key passes plain verify but fails --against: ERR_AGAINST_INCONSISTENT', async () => {
    const dir = copyLog();
    const saved = await saveCheckpoint(dir);
    await forgeWithStolenKey(dir);
    const plain = await verify(dir);
    expect(plain.code).toBe(0);
    expect(plain.json).toMatchObject({ ok: true, size: 600 });
    const { code, json } = await verify(dir, '--against', saved);
    expect(code).toBe(1);
    expect(json).toMatchObject({ ok: false, code: 'ERR_AGAINST_INCONSISTENT' });
  });

  test('history rewritten with the stolen signer key: the --against failure names a range that holds entry 100, and no index', async () => {
    // One saved root cannot point at the entry that differs: an index of 0 would read as if entry 0 did.
    const dir = copyLog();
    const saved = await saveCheckpoint(dir);
    await forgeWithStolenKey(dir);
    const { json } = await verify(dir, '--against', saved);
    expect(json.ok).toBe(false);
    expect(json.ok ? undefined : json.index).toBeNull();
    expect(json.ok ? '' : json.message).toContain('an entry in [0, 600) differs');
  });
});

// Keeps the seeded event shape honest: the cases above rely on entry 100 being this event.
test('entry 100 of the seed is the git commit the cases edit', () => {
  expect(seedEvent(100)).toMatchObject({ source: 'git', action: 'vc.commit', device: { seq: 101 }, reason: 'ticket OPS-1100: routine change' });
  expect(seedEvent(100)).toMatchObject({ target: { id: 'git@example.com:ops/repo0.git' } });
});
