import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { CompactRange, createVerifier, openNote, parseCheckpoint } from '@stele/log';
import { initStore } from './dataDir.js';
import type { LogDriver } from './driver.js';
import { nodeHasher } from './hash.js';
import { openSealer, type Sealer, type UnsealedBatch } from './seal.js';
import { openSqliteDriver } from './sqlite/driver.js';
import { testEntry, useBuiltWriter } from './testEvent.js';
import { verifyLog } from './verify.js';
import { sealOnWriterThread, writerSettings } from './writer/writerThread.js';

let restoreWriter: () => void;
beforeAll(() => {
  restoreWriter = useBuiltWriter();
});
afterAll(() => restoreWriter());

const ORIGIN = 'example.com/seal-log';
let dir: string;
let signerKey: string;
let verifierKey: string;
let open: { driver: LogDriver; sealer?: Sealer }[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stele-seal-'));
  ({ verifierKey } = await initStore(dir, ORIGIN));
  signerKey = readFileSync(join(dir, 'signer.key'), 'utf8').trim();
  open = [];
});

afterEach(async () => {
  for (const { driver, sealer } of open) {
    await sealer?.close().catch(() => undefined);
    await driver.close().catch(() => undefined);
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Entries [first, first + n) of the test log, in `view`. */
function unsealed(first: number, n: number, view = 0): UnsealedBatch {
  return { entries: Array.from({ length: n }, (_, k) => testEntry(first + k)), created: 1_000 + first, historic: true, view };
}

const makers: Record<string, (driver: LogDriver) => Promise<Sealer>> = {
  'on this thread': (driver) => openSealer(driver, signerKey),
  'on the writer thread': async (driver) => {
    const sealer = sealOnWriterThread(driver, signerKey);
    expect(sealer, 'the compiled writer thread is used').toBeDefined();
    return sealer!;
  },
};

for (const [where, make] of Object.entries(makers)) {
  describe(`a sealer ${where}`, () => {
    async function sealer(): Promise<{ driver: LogDriver; sealer: Sealer }> {
      const driver = openSqliteDriver({ path: join(dir, 'stele.db') });
      const opened = { driver, sealer: await make(driver) };
      open.push(opened);
      return opened;
    }

    test('seals each batch on the one before: its leaf hashes, the root, and a checkpoint the verifier accepts', async () => {
      const { driver, sealer: s } = await sealer();
      const one = unsealed(0, 300);
      const two = unsealed(300, 5);
      const first = await s.commit(one);
      const second = await s.commit(two);
      const range = CompactRange.empty(nodeHasher);
      for (const e of [...one.entries, ...two.entries]) range.append(nodeHasher.hashLeaf(e.bytes));
      expect(second.leafHashes.map((h) => Buffer.from(h).toString('hex'))).toEqual(
        two.entries.map((e) => Buffer.from(nodeHasher.hashLeaf(e.bytes)).toString('hex')),
      );
      expect(first.size).toBe(300);
      expect(second.size).toBe(305);
      expect(Buffer.from(second.root).toString('hex')).toBe(Buffer.from(range.root()).toString('hex'));
      const checkpoint = parseCheckpoint((await openNote(second.note, [await createVerifier(verifierKey)])).text);
      expect(checkpoint).toMatchObject({ origin: ORIGIN, size: 305 });
      expect(Buffer.from(checkpoint.root).toString('hex')).toBe(Buffer.from(range.root()).toString('hex'));
      expect((await driver.head()).latest).toEqual({ size: 305, created: 1_300, note: second.note });
      // Everything a commit writes (tile hashes, history, index) agrees with the entries.
      const report = await verifyLog({ driver, verifier: await createVerifier(verifierKey), origin: ORIGIN });
      expect(report).toMatchObject({ ok: true, size: 305 });
    });

    test('refuses a batch that does not start where the log ends, writing nothing', async () => {
      const { driver, sealer: s } = await sealer();
      await s.commit(unsealed(0, 2));
      await expect(s.commit(unsealed(5, 1))).rejects.toMatchObject({ name: 'StoreError', code: 'ERR_SIZE_CONFLICT' });
      expect((await driver.head()).size).toBe(2);
      // The refusal leaves the sealer usable.
      expect((await s.commit(unsealed(2, 1, 1))).size).toBe(3);
    });

    test('once a commit fails, refuses the batches of its view, though another writer made the size match, and seals in the next view', async () => {
      const { driver, sealer: mine } = await sealer();
      const { sealer: other } = await sealer();
      await mine.commit(unsealed(0, 2));
      // Another writer appends entry 2; this sealer's batch at 2 then fails, and so must the batch sequenced on it, at 3.
      await other.commit(unsealed(2, 1));
      await expect(mine.commit(unsealed(2, 1))).rejects.toMatchObject({ code: 'ERR_SIZE_CONFLICT' });
      await expect(mine.commit(unsealed(3, 2))).rejects.toMatchObject({ code: 'ERR_SIZE_CONFLICT', message: expect.stringMatching(/did not land/) });
      expect((await driver.head()).size).toBe(3);
      // The service reads the store again (a new view) and sequences the same events at 3.
      const again = await mine.commit(unsealed(3, 2, 1));
      expect(again.size).toBe(5);
      expect((await driver.head()).latest?.note).toBe(again.note);
      const report = await verifyLog({ driver, verifier: await createVerifier(verifierKey), origin: ORIGIN });
      expect(report).toMatchObject({ ok: true, size: 5 });
    });

    test('batches handed over together land in order, each answered with its own leaf hashes and checkpoint', async () => {
      const { driver, sealer: s } = await sealer();
      const batches = [unsealed(0, 3), unsealed(3, 1), unsealed(4, 250)];
      const answers = await Promise.all(batches.map((b) => s.commit(b)));
      answers.forEach((answer, i) => {
        expect(answer.size).toBe(batches[i]!.entries.at(-1)!.index + 1);
        expect(answer.leafHashes.map((h) => Buffer.from(h).toString('hex'))).toEqual(
          batches[i]!.entries.map((e) => Buffer.from(nodeHasher.hashLeaf(e.bytes)).toString('hex')),
        );
      });
      // Every batch was historic: each checkpoint is in the history, the last one latest.
      expect((await driver.readCheckpoints()).map((c) => c.note)).toEqual(answers.map((a) => a.note));
      expect((await driver.head()).latest?.note).toBe(answers[2]!.note);
      const report = await verifyLog({ driver, verifier: await createVerifier(verifierKey), origin: ORIGIN });
      expect(report).toMatchObject({ ok: true, size: 254 });
    });

    test('catches up with another writer when a batch starts where that writer left the log', async () => {
      const { sealer: mine } = await sealer();
      const { driver, sealer: other } = await sealer();
      await mine.commit(unsealed(0, 1));
      await other.commit(unsealed(1, 2));
      expect((await mine.commit(unsealed(3, 1))).size).toBe(4);
      expect((await driver.head()).size).toBe(4);
    });
  });
}

test('without the compiled writer thread, there is no writer-thread sealer (the service seals itself)', () => {
  const driver = openSqliteDriver({ path: join(dir, 'stele.db') });
  open.push({ driver });
  const script = writerSettings.script;
  writerSettings.script = new URL('./missing/writerWorker.js', import.meta.url);
  try {
    expect(sealOnWriterThread(driver, signerKey)).toBeUndefined();
  } finally {
    writerSettings.script = script;
  }
});
