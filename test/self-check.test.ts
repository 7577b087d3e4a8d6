/**
 * The collector checks its own log (`verify.everySeconds`): `stele serve` in
 * a child process, checking every second while a client appends over HTTP,
 * and the same after its SQLite file is edited underneath it. Each outcome
 * must show in GET /v1/log and /metrics and be recorded in the log as a
 * `log.verify` event whose size and root are the tree's at that size; a
 * check made while appends land must hold; an edited entry or dropped
 * guards must be found and named, and the same finding recorded once.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { resolveConfig } from '@stele/server';
import { CompactRange } from '@stele/log';
import { nodeHasher, openForAudit } from '@stele/store';
import { removeTempDirs, tamper, tempDir } from './helpers.js';
import { startCollector, type Collector } from './sourcesProcess.js';

afterAll(removeTempDirs);

interface Status {
  ok: boolean;
  size?: number;
  root?: string;
  index?: number | null;
  code?: string;
  message?: string;
  finished: string;
}

const auth = (c: Collector) => ({ authorization: `Bearer ${c.adminToken}` });
const selfCheck = async (c: Collector): Promise<Status | null> => ((await (await fetch(`${c.url}/v1/log`, { headers: auth(c) })).json()) as { selfCheck: Status | null }).selfCheck;
const metric = async (c: Collector, name: string): Promise<string | undefined> =>
  new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`${c.url}/metrics`, { headers: auth(c) })).text())?.[1];

/** Polls until `probe` gives a value `done` accepts (20 s at most). */
async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The `log.verify` events of a collector's log, oldest first, with their index. */
async function verifyEvents(c: Collector): Promise<{ index: number; outcome: string; details: Record<string, unknown> }[]> {
  const res = await fetch(`${c.url}/v1/events?action=log.verify&limit=1000`, { headers: auth(c) });
  const { events } = (await res.json()) as { events: { index: number; outcome: string; details: Record<string, unknown> }[] };
  return events.reverse();
}

/** Appends `n` events over HTTP, one request of 50 at a time. */
async function append(c: Collector, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i += 50) {
    const events = Array.from({ length: 50 }, (_, k) => ({
      source: 'emacs', action: 'file.save', time: new Date().toISOString(), actor: { id: 'ada' },
      target: { type: 'file', id: `/src/${tag}-${i + k}.el` }, outcome: 'success',
    }));
    const res = await fetch(`${c.url}/v1/events`, { method: 'POST', headers: { ...auth(c), 'content-type': 'application/json' }, body: JSON.stringify(events) });
    expect(res.status).toBe(201);
  }
}

describe('stele serve verifies its own log', () => {
  test('while a client appends: every check holds, each recorded with the size and root of the tree at that size', async () => {
    const dir = join(tempDir('self-check'), 'log');
    const c = await startCollector(dir, { env: { STELE_VERIFY_EVERY_SECONDS: '1' } });
    let recorded;
    try {
      expect(await selfCheck(c)).toBeNull();
      expect(await metric(c, 'stele_self_check_ok')).toBe('NaN');
      // Appends land throughout three or more checks.
      const load = (async () => {
        for (let round = 0; (await verifyEvents(c)).length < 3; round++) await append(c, 500, `r${round}`);
      })();
      await load;
      recorded = await verifyEvents(c);
      const status = await selfCheck(c);
      expect(status).toMatchObject({ ok: true });
      expect(await metric(c, 'stele_self_check_ok')).toBe('1');
      expect(Number(await metric(c, 'stele_self_check_size'))).toBe(status!.size);
    } finally {
      await c.stop();
    }
    expect(recorded.every((e) => e.outcome === 'success')).toBe(true);
    // Each recorded size and root is the tree's at that size, and each check covered what came before its event.
    const store = await openForAudit(dir);
    try {
      for (const e of recorded) {
        const size = e.details.size as number;
        expect(size).toBeLessThanOrEqual(e.index);
        const root = Buffer.from(await readRoot(store, size)).toString('base64');
        expect({ size, root: e.details.root }).toEqual({ size, root });
      }
      expect(new Set(recorded.map((e) => e.details.size)).size).toBe(recorded.length);
    } finally {
      await store.driver.close();
    }
  });

  test('an entry edited in the SQLite file underneath it is found, named, shown and recorded once', async () => {
    const dir = join(tempDir('self-check-tamper'), 'log');
    const c = await startCollector(dir, { env: { STELE_VERIFY_EVERY_SECONDS: '1' } });
    try {
      await append(c, 200, 'before');
      await until(() => selfCheck(c), (s) => s !== null && s.ok && (s.size ?? 0) > 200);
      tamper(dir, (db) => {
        const row = db.prepare('SELECT data FROM entries WHERE idx = 100').get() as { data: Buffer };
        const data = Buffer.from(row.data);
        data[data.indexOf('file.save')] = 0x46; // F: File.save
        db.prepare('UPDATE entries SET data = ? WHERE idx = 100').run(data);
      });
      const status = await until(() => selfCheck(c), (s) => s !== null && !s.ok);
      expect(status).toMatchObject({ ok: false, index: 100, code: 'ERR_LEAF_HASH_MISMATCH' });
      expect(await metric(c, 'stele_self_check_ok')).toBe('0');
      expect(await metric(c, 'stele_self_check_size')).toBe('NaN');
      // Two more checks find the same: still one failure in the log.
      const after = status.finished;
      await until(() => selfCheck(c), (s) => s !== null && s.finished > after);
      const again = (await selfCheck(c))!.finished;
      await until(() => selfCheck(c), (s) => s !== null && s.finished > again);
      const failures = (await verifyEvents(c)).filter((e) => e.outcome === 'failure');
      expect(failures.map((e) => ({ code: e.details.code, index: e.details.index }))).toEqual([{ code: 'ERR_LEAF_HASH_MISMATCH', index: 100 }]);
    } finally {
      await c.stop();
    }
  });

  test('guards dropped underneath it are found: ERR_GUARDS_MISSING', async () => {
    const dir = join(tempDir('self-check-guards'), 'log');
    const c = await startCollector(dir, { env: { STELE_VERIFY_EVERY_SECONDS: '1' } });
    try {
      await until(() => selfCheck(c), (s) => s !== null && s.ok);
      tamper(dir, () => undefined); // drops every trigger, changes nothing else
      const status = await until(() => selfCheck(c), (s) => s !== null && !s.ok);
      expect(status).toMatchObject({ ok: false, index: null, code: 'ERR_GUARDS_MISSING' });
      expect(status.message).toContain('entries_no_update');
    } finally {
      await c.stop();
    }
  });

  test('verify.everySeconds takes 0 (never) to 2592000; the environment names it STELE_VERIFY_EVERY_SECONDS', () => {
    expect(resolveConfig({}).verify.everySeconds).toBe(21_600);
    expect(resolveConfig({ env: { STELE_VERIFY_EVERY_SECONDS: '0' } }).verify.everySeconds).toBe(0);
    expect(() => resolveConfig({ file: { verify: { everySeconds: -1 } } })).toThrow(/verify\.everySeconds must be a whole number from 0 to 2592000/);
    expect(() => resolveConfig({ file: { verify: { everySeconds: 1.5 } } })).toThrow(/verify\.everySeconds/);
    expect(() => resolveConfig({ file: { verify: { every: 10 } } })).toThrow(/unknown setting verify\.every/);
  });
});

/** The root of the first `size` entries, recomputed from their bytes. */
async function readRoot(store: Awaited<ReturnType<typeof openForAudit>>, size: number): Promise<Uint8Array> {
  const range = CompactRange.empty(nodeHasher);
  for (const entry of await store.driver.readEntries(0, size)) range.append(nodeHasher.hashLeaf(entry.bytes));
  return range.root();
}
