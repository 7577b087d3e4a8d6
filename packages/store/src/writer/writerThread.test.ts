import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { initStore, openStore, type Store } from '../dataDir.js';
import { event, useBuiltWriter } from '../testEvent.js';
import { verifyLog } from '../verify.js';

let restoreWriter: () => void;
beforeAll(() => {
  restoreWriter = useBuiltWriter();
});
afterAll(() => restoreWriter());

let dir: string;
let stores: Store[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stele-writer-'));
  await initStore(dir, 'example.com/writer-log');
  stores = [];
});

afterEach(async () => {
  for (const s of stores) await s.log.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

let writerThread: 'commit' | 'seal';

async function open(): Promise<Store> {
  const store = await openStore(dir, { writerThread });
  stores.push(store);
  return store;
}

async function verified(store: Store) {
  return verifyLog({ driver: store.log.driver, verifier: store.verifier, origin: store.log.origin });
}

for (const mode of ['commit', 'seal'] as const) describe(`the writer thread, to ${mode}`, () => {
  beforeEach(() => {
    writerThread = mode;
  });

  test('concurrent appends land once each, contiguous, acknowledged only when durable', async () => {
    const store = await open();
    const calls = Array.from({ length: 40 }, (_, c) =>
      store.log.append(Array.from({ length: 25 }, (_, k) => event(c * 25 + k, { id: `ev-${c}-${k}` }))),
    );
    const results = await Promise.all(calls);
    const indexes = results.flatMap((r) => r.entries.map((e) => e.index)).sort((a, b) => a - b);
    expect(indexes).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // Each answer's checkpoint covers its entries.
    for (const r of results) expect(r.size).toBeGreaterThan(Math.max(...r.entries.map((e) => e.index)));
    await store.log.close();
    // What was acknowledged is in the file, read by a fresh process-level open.
    const again = await openStore(dir, { mode: 'read' });
    stores.push(again);
    expect(again.log.size()).toBe(1000);
    expect((await again.log.entryById('ev-39-24'))?.index).toBe(results[39]!.entries[24]!.index);
    expect(await verified(again)).toMatchObject({ ok: true, size: 1000 });
  });

  test('an id repeated while its first batch is still being written is answered with the first index', async () => {
    const store = await open();
    const first = store.log.append([event(1, { id: 'same' }), ...Array.from({ length: 500 }, (_, i) => event(i + 10))]);
    const second = store.log.append([event(1, { id: 'same' })]);
    const third = expect(store.log.append([event(2, { id: 'same' })])).rejects.toMatchObject({ code: 'ERR_ID_CONFLICT' });
    const [a, b] = await Promise.all([first, second]);
    expect(b.entries[0]).toEqual({ id: 'same', index: a.entries[0]!.index, duplicate: true });
    await third;
    expect(store.log.size()).toBe(501);
  });

  test('two writers on one store: every append lands exactly once and the log verifies', async () => {
    const one = await open();
    const two = await open();
    const appends: Promise<unknown>[] = [];
    for (let c = 0; c < 30; c++) {
      const writer = c % 2 === 0 ? one : two;
      appends.push(writer.log.append(Array.from({ length: 20 }, (_, k) => event(c * 20 + k, { id: `w-${c}-${k}` }))));
    }
    const results = (await Promise.allSettled(appends)).filter((r) => r.status === 'fulfilled');
    expect(results.length).toBe(30);
    await one.log.close();
    await two.log.close();
    const check = await openStore(dir, { mode: 'read' });
    stores.push(check);
    expect(check.log.size()).toBe(600);
    for (let c = 0; c < 30; c++) expect(await check.log.entryById(`w-${c}-7`)).toBeDefined();
    expect(await verified(check)).toMatchObject({ ok: true, size: 600 });
  });

  test('subscribers hear of each durable batch once, in order', async () => {
    const store = await open();
    const seen: number[] = [];
    store.log.subscribe((e) => seen.push(...e.entries.map((x) => x.index)));
    await Promise.all(Array.from({ length: 20 }, (_, c) => store.log.append(Array.from({ length: 10 }, (_, k) => event(c * 10 + k)))));
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });
});
