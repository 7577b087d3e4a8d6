import assert from 'node:assert/strict';
import type { Batch, IndexRow, LogDriver, QueryFilter, StoredEntry } from './driver.js';

/** A fresh, empty driver, and a way to reopen the same storage (durability). */
export interface DriverFixture {
  driver: LogDriver;
  reopen(): Promise<LogDriver>;
  cleanup(): Promise<void>;
}

/** One case of the conformance suite: throws (node:assert) when the driver misbehaves. */
export interface ConformanceCase {
  name: string;
  run(make: () => Promise<DriverFixture>): Promise<void>;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const hash = (n: number) => new Uint8Array(32).fill(n & 255);

function row(i: number, extra: Partial<IndexRow> = {}): IndexRow {
  return {
    time: 1_000 + i, received: 2_000 + i, source: i % 2 ? 'git' : 'emacs', action: i % 3 ? 'file.save' : 'package.install',
    actorId: `user${i % 4}`, actorEmail: `user${i % 4}@example.com`, targetType: 'file', targetId: `/etc/f${i}`,
    targetName: `f${i}`, outcome: 'success', text: `word${i} common`, ...extra,
  };
}

/**
 * The stored bytes of entry i: JSON holding every value of its row, as a
 * record does (a driver may narrow candidates down by the bytes too).
 */
const data = (i: number): string => JSON.stringify({ i, ...row(i) });

function entry(i: number): StoredEntry & { row: IndexRow } {
  return { index: i, id: `id-${i}`, leafHash: hash(i), bytes: bytes(data(i)), row: row(i) };
}

function batch(from: number, to: number, historic = true, created = 10_000 + to): Batch {
  const entries = [];
  for (let i = from; i < to; i++) entries.push(entry(i));
  return { entries, hashes: [], checkpoint: { size: to, created, note: `note ${to}\n` }, historic };
}

/** Runs a case against a fresh fixture and always cleans up. */
async function withFixture(make: () => Promise<DriverFixture>, body: (f: DriverFixture) => Promise<void>): Promise<void> {
  const fixture = await make();
  try {
    await body(fixture);
  } finally {
    await fixture.cleanup();
  }
}

/**
 * The behaviour every LogDriver must show. Run it with a factory of fresh
 * drivers: `for (const c of conformanceCases) test(c.name, () => c.run(make))`.
 */
export const conformanceCases: ConformanceCase[] = [
  {
    name: 'a batch whose parent is no longer the latest checkpoint is refused, though it starts at the stored size',
    run: (make) => withFixture(make, async ({ driver }) => {
      await driver.commit({ ...batch(0, 2), parent: null });
      const conflict = { name: 'StoreError', code: 'ERR_SIZE_CONFLICT' };
      await assert.rejects(driver.commit({ ...batch(2, 3), parent: 'note 1\n' }), conflict);
      await assert.rejects(driver.commit({ ...batch(2, 3), parent: null }), conflict);
      assert.equal((await driver.head()).size, 2);
      await driver.commit({ ...batch(2, 3), parent: 'note 2\n' });
      assert.equal((await driver.head()).size, 3);
    }),
  },
  {
    name: 'an empty store has size 0 and no checkpoints',
    run: (make) => withFixture(make, async ({ driver }) => {
      const head = await driver.head();
      assert.equal(head.size, 0);
      assert.equal(head.latest, undefined);
      assert.deepEqual(await driver.readCheckpoints(), []);
    }),
  },
  {
    name: 'a commit is visible in head, entries, hashes, ids and checkpoints',
    run: (make) => withFixture(make, async ({ driver }) => {
      await driver.commit({ ...batch(0, 300), hashes: [{ level: 8, index: 0, hash: hash(200) }] });
      const head = await driver.head();
      assert.equal(head.size, 300);
      assert.equal(head.latest?.note, 'note 300\n');
      assert.equal(head.lastHistoric?.size, 300);
      const entries = await driver.readEntries(10, 13);
      assert.deepEqual(entries.map((e) => e.index), [10, 11, 12]);
      assert.deepEqual([...entries[1]!.bytes], [...bytes(data(11))]);
      assert.deepEqual([...entries[2]!.leafHash], [...hash(12)]);
      assert.deepEqual((await driver.readHashes(0, 254, 256)).map((h) => h[0]), [254, 255]);
      assert.deepEqual((await driver.readHashes(8, 0, 1)).map((h) => h[0]), [200]);
      const found = await driver.findIds(['id-5', 'nope', 'id-299']);
      assert.deepEqual([...found.keys()].sort(), ['id-299', 'id-5']);
      assert.equal(found.get('id-5')!.index, 5);
    }),
  },
  {
    name: 'reading past what is stored throws',
    run: (make) => withFixture(make, async ({ driver }) => {
      await driver.commit(batch(0, 3));
      await assert.rejects(driver.readEntries(2, 4));
      await assert.rejects(driver.readHashes(0, 0, 4));
      await assert.rejects(driver.readHashes(8, 0, 1));
    }),
  },
  {
    name: 'a failing batch leaves no trace',
    run: (make) => withFixture(make, async ({ driver }) => {
      await driver.commit(batch(0, 2));
      const bad = batch(2, 5);
      (bad.entries as (StoredEntry & { row: IndexRow })[])[2] = { ...entry(4), id: 'id-0' }; // duplicate id
      await assert.rejects(driver.commit(bad));
      const head = await driver.head();
      assert.equal(head.size, 2);
      assert.equal(head.latest?.size, 2);
      assert.deepEqual((await driver.findIds(['id-2', 'id-3'])).size, 0);
      assert.equal((await driver.readCheckpoints()).length, 1);
      const left: number[] = [];
      for await (const page of driver.query({ limit: 10 })) left.push(...page);
      assert.deepEqual(left, [1, 0]);
    }),
  },
  {
    name: 'a batch that does not start at the stored size is refused whole',
    run: (make) => withFixture(make, async ({ driver }) => {
      await driver.commit(batch(0, 3));
      await assert.rejects(driver.commit(batch(2, 5)), (err: { code?: string }) => err.code === 'ERR_SIZE_CONFLICT');
      await assert.rejects(driver.commit(batch(4, 5)), (err: { code?: string }) => err.code === 'ERR_SIZE_CONFLICT');
      assert.equal((await driver.head()).size, 3);
      assert.equal((await driver.head()).latest?.size, 3);
    }),
  },
  {
    name: 'a non-historic commit replaces the latest checkpoint only',
    run: (make) => withFixture(make, async ({ driver }) => {
      await driver.commit(batch(0, 1, true));
      await driver.commit(batch(1, 2, false));
      await driver.commit(batch(2, 3, false));
      const head = await driver.head();
      assert.equal(head.latest?.size, 3);
      assert.equal(head.lastHistoric?.size, 1);
      assert.deepEqual((await driver.readCheckpoints()).map((c) => c.size), [1]);
    }),
  },
  {
    name: 'query candidates include every match, newest first',
    run: (make) => withFixture(make, async ({ driver }) => {
      await driver.commit(batch(0, 10));
      await driver.commit(batch(10, 20));
      await driver.commit(batch(20, 30));
      const all = async (filter: QueryFilter) => {
        const out: number[] = [];
        for await (const page of driver.query(filter)) out.push(...page);
        for (let i = 1; i < out.length; i++) assert.ok(out[i - 1]! > out[i]!, `candidates must descend: ${out}`);
        return out;
      };
      const includes = (got: number[], want: number[]) => {
        for (const w of want) assert.ok(got.includes(w), `candidate ${w} missing from ${got}`);
      };
      const everything = await all({ limit: 100 });
      assert.deepEqual(everything, Array.from({ length: 30 }, (_, i) => 29 - i));
      includes(await all({ source: 'git', limit: 3 }), [29, 27, 25, 1]);
      includes(await all({ action: 'package.*', limit: 100 }), [27, 24, 21, 18, 15, 12, 9, 6, 3, 0]);
      includes(await all({ action: 'package.install', before: 10, limit: 2 }), [9, 6]);
      assert.ok((await all({ action: 'package.install', before: 10, limit: 2 })).every((i) => i < 10));
      includes(await all({ actor: 'user1@example.com', since: 1_010, until: 1_020, limit: 100 }), [17, 13]);
      includes(await all({ actor: 'user1', limit: 1 }), [29]);
      includes(await all({ target: 'f7', limit: 10 }), [7]);
      includes(await all({ target: '/etc/f8', limit: 10 }), [8]);
      includes(await all({ text: 'word12', limit: 10 }), [12]);
      includes(await all({ text: 'common word3', limit: 10 }), [3]);
      assert.deepEqual(await all({ actor: 'nobody', limit: 10 }), []);
      assert.deepEqual(await all({ text: 'absent', limit: 10 }), []);
      assert.deepEqual(await all({ since: 5_000, limit: 10 }), []);
    }),
  },
  {
    name: 'candidates of a large batch come whole and newest first, however the driver pages them',
    run: (make) => withFixture(make, async ({ driver }) => {
      await driver.commit(batch(0, 5));
      await driver.commit(batch(5, 905));
      const out: number[] = [];
      for await (const page of driver.query({ limit: 10 })) out.push(...page);
      assert.deepEqual(out, Array.from({ length: 905 }, (_, i) => 904 - i));
      const git: number[] = [];
      for await (const page of driver.query({ source: 'git', limit: 10 })) git.push(...page);
      for (let i = 903; i >= 1; i -= 2) assert.ok(git.includes(i), `candidate ${i} missing`);
      for (let i = 1; i < git.length; i++) assert.ok(git[i - 1]! > git[i]!, 'candidates must descend');
    }),
  },
  {
    name: 'metadata is written once',
    run: (make) => withFixture(make, async ({ driver }) => {
      await driver.putMeta('origin', 'example.com/log');
      assert.equal(await driver.getMeta('origin'), 'example.com/log');
      await assert.rejects(driver.putMeta('origin', 'other'));
      assert.equal(await driver.getMeta('origin'), 'example.com/log');
      assert.equal(await driver.getMeta('absent'), undefined);
    }),
  },
  {
    name: 'committed batches survive closing and reopening',
    run: (make) => withFixture(make, async (fixture) => {
      await fixture.driver.commit(batch(0, 5));
      await fixture.driver.close();
      const again = await fixture.reopen();
      assert.equal((await again.head()).size, 5);
      assert.equal((await again.readEntries(4, 5))[0]!.id, 'id-4');
      await again.commit(batch(5, 6));
      assert.equal((await again.head()).latest?.size, 6);
      fixture.driver = again;
    }),
  },
  {
    name: 'verification reads rows as stored and checks the query index',
    run: (make) => withFixture(make, async ({ driver }) => {
      await driver.commit({ ...batch(0, 4), hashes: [{ level: 8, index: 0, hash: hash(9) }] });
      await driver.commit(batch(4, 6));
      const rows = await driver.scan(1, 3);
      assert.deepEqual(rows.map((r) => r.index), [1, 2]);
      assert.deepEqual([...(await driver.scanHashes(8, 0, 2)).keys()], [0]);
      const good = driver.indexChecker();
      assert.equal(await good.check(0, [row(0), row(1), row(2)]), undefined);
      assert.equal(await good.check(3, [row(3), row(4), row(5)]), undefined);
      assert.equal(await good.finish(6), undefined);
      const bad = driver.indexChecker();
      const problem = await bad.check(0, [row(0), row(1), row(2, { actorEmail: 'mallory@example.com' }), row(3)]);
      assert.equal(problem?.index, 2);
      const short = driver.indexChecker();
      assert.equal(await short.check(0, [row(0), row(1), row(2), row(3)]), undefined);
      assert.equal((await short.finish(4))?.index, 4);
    }),
  },
  {
    name: 'storage the driver created has its guards intact (when the driver has guards), also after reopening',
    run: (make) => withFixture(make, async (fixture) => {
      if (!fixture.driver.guardProblems) return;
      await fixture.driver.commit(batch(0, 3));
      assert.deepEqual(await fixture.driver.guardProblems(), []);
      await fixture.driver.close();
      fixture.driver = await fixture.reopen();
      assert.deepEqual(await fixture.driver.guardProblems!(), []);
    }),
  },
];
