import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  createVerifier, fromBase64, openNote, parseCheckpoint, verifyConsistency, verifyInclusion, type EventValidationError,
} from '@stele/log';
import { initStore, openStore, type Store } from './dataDir.js';
import type { CommitEvent } from './log.js';
import type { StoreError } from './errors.js';
import { event } from './testEvent.js';
import { nodeHasher } from './hash.js';
import { verifyLog } from './verify.js';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stele-log-'));
  await initStore(dir, 'example.com/test-log');
  store = await openStore(dir);
});

afterEach(async () => {
  await store.log.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('append', () => {
  test('resolves with indexes and a signed checkpoint that covers them', async () => {
    const result = await store.log.append([event(0), event(1)]);
    expect(result.entries.map((e) => e.index)).toEqual([0, 1]);
    expect(result.size).toBe(2);
    const opened = await openNote(result.checkpoint, [store.verifier]);
    const cp = parseCheckpoint(opened.text);
    expect(cp.origin).toBe('example.com/test-log');
    expect(cp.size).toBe(2);
    expect(cp.root).toEqual(await store.log.root(2));
  });

  test('stores the record with store-set fields and the client fields', async () => {
    const { entries } = await store.log.append([event(7, { id: 'client-7', reason: 'JIRA-1' })]);
    const entry = await store.log.entry(entries[0]!.index);
    expect(entry.record).toMatchObject({ id: 'client-7', index: 0, source: 'emacs', reason: 'JIRA-1', v: 1 });
    expect(entry.record.received).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(entry.leafHash).toEqual(nodeHasher.hashLeaf(entry.bytes));
  });

  test('concurrent appends share group commits', async () => {
    const calls = Array.from({ length: 50 }, (_, i) => store.log.append([event(i)]));
    const results = await Promise.all(calls);
    const indexes = results.map((r) => r.entries[0]!.index).sort((a, b) => a - b);
    expect(indexes).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const checkpoints = new Set(results.map((r) => r.checkpoint));
    expect(checkpoints.size).toBeLessThan(50);
    for (const r of results) expect(r.size).toBeGreaterThan(r.entries[0]!.index);
  });

  test('the same id with the same content returns the original index and adds nothing', async () => {
    await store.log.append([event(1, { id: 'same' })]);
    const again = await store.log.append([event(1, { id: 'same' }), event(2)]);
    expect(again.entries).toEqual([
      { id: 'same', index: 0, duplicate: true },
      expect.objectContaining({ index: 1, duplicate: false }),
    ]);
    expect(store.log.size()).toBe(2);
  });

  test('the same id with different content is a conflict and the call appends nothing', async () => {
    await store.log.append([event(1, { id: 'same' })]);
    const err = await store.log.append([event(3), event(2, { id: 'same' })]).catch((e: StoreError) => e);
    expect((err as StoreError).code).toBe('ERR_ID_CONFLICT');
    expect((err as StoreError).message).toBe('id same is already in the log (index 0) with different content');
    expect(store.log.size()).toBe(1);
  });

  test('a duplicate id inside one call is deduplicated, or a conflict when it differs', async () => {
    const ok = await store.log.append([event(1, { id: 'twice' }), event(1, { id: 'twice' })]);
    expect(ok.entries.map((e) => [e.index, e.duplicate])).toEqual([[0, false], [0, true]]);
    const err = await store.log.append([event(1, { id: 'x' }), event(2, { id: 'x' })]).catch((e: StoreError) => e);
    expect((err as StoreError).code).toBe('ERR_ID_CONFLICT');
    // Not "in the log at index 1": nothing of the call is.
    expect((err as StoreError).message).toBe('id x appears twice in this append with different content');
    expect(store.log.size()).toBe(1);
  });

  test('one bad event rejects the whole call with every error located', async () => {
    const err = await store.log.append([event(0), { source: 'emacs' }]).catch((e: EventValidationError) => e);
    expect((err as EventValidationError).code).toBe('ERR_EVENT_INVALID');
    expect((err as EventValidationError).errors.every((e) => e.event === 1)).toBe(true);
    expect((err as EventValidationError).errors.map((e) => e.field)).toContain('action');
    expect(store.log.size()).toBe(0);
  });

  test('an entry over 65,535 bytes is refused and nothing is appended', async () => {
    const big = event(0, { details: { blob: 'x'.repeat(70_000) } });
    const err = await store.log.append([event(1), big]).catch((e: EventValidationError) => e);
    expect((err as EventValidationError).code).toBe('ERR_EVENT_INVALID');
    expect((err as EventValidationError).errors).toEqual([expect.objectContaining({ event: 1, code: 'too_large' })]);
    expect(store.log.size()).toBe(0);
  });

  test('a failing call in a group commit does not fail the others', async () => {
    await store.log.append([event(0, { id: 'taken' })]);
    const [good, bad] = await Promise.allSettled([
      store.log.append([event(1)]),
      store.log.append([event(2, { id: 'taken' })]),
    ]);
    expect(good.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    expect(store.log.size()).toBe(2);
  });
});

describe('proofs', () => {
  test('inclusion and consistency proofs verify against signed roots, across tile levels', async () => {
    for (let i = 0; i < 700; i += 100) await store.log.append(Array.from({ length: 100 }, (_, k) => event(i + k)));
    const size = store.log.size();
    const root = await store.log.root(size);
    for (const index of [0, 1, 255, 256, 257, 511, 699]) {
      const proof = await store.log.inclusionProof(index, size);
      const entry = await store.log.entry(index);
      expect(() => verifyInclusion(nodeHasher, index, size, entry.leafHash, proof, root)).not.toThrow();
    }
    for (const from of [1, 100, 256, 300, 512, 700]) {
      const proof = await store.log.consistencyProof(from, size);
      const old = await store.log.root(from);
      expect(() => verifyConsistency(nodeHasher, from, size, proof, old, root)).not.toThrow();
    }
  });

  test('proofs outside the log are refused', async () => {
    await store.log.append([event(0)]);
    await expect(store.log.inclusionProof(1, 1)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(store.log.consistencyProof(0, 2)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  });
});

describe('two writers on one store', () => {
  test('appends from both interleave into one verifiable tree', async () => {
    const other = await openStore(dir);
    try {
      for (let i = 0; i < 5; i++) {
        await store.log.append([event(2 * i)]);
        const r = await other.log.append([event(2 * i + 1), event(100 + i)]);
        expect(r.entries[0]!.index).toBe(3 * i + 1);
      }
      const mine = await store.log.append([event(50)]);
      expect(mine.entries[0]!.index).toBe(15);
      const result = await verifyLog({ driver: store.log.driver, verifier: store.verifier, origin: store.log.origin });
      expect(result).toMatchObject({ ok: true, size: 16 });
    } finally {
      await other.log.close();
    }
  });

  test('an entry another writer left unsigned is not taken in when catching up', async () => {
    await store.log.append([event(0), event(1)]);
    // An entry row with no checkpoint over it, as a crashed or hostile writer could leave.
    const raw = new Database(join(dir, 'stele.db'));
    try {
      raw.prepare('INSERT INTO entries (idx, id, leaf_hash, data) VALUES (2, ?, ?, ?)').run('stray', Buffer.alloc(32), Buffer.from('{}'));
    } finally {
      raw.close();
    }
    const heard: number[] = [];
    store.log.subscribe((e) => heard.push(...e.entries.map((x) => x.index)));
    await expect(store.log.catchUp()).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' });
    expect(store.log.size()).toBe(2);
    expect(heard).toEqual([]);
  });

  test('subscribers hear of every commit, after it is durable', async () => {
    const heard: number[] = [];
    const stop = store.log.subscribe((e) => heard.push(...e.entries.map((x) => x.index)));
    await store.log.append([event(0), event(1)]);
    await store.log.append([event(2)], { submitter: { type: 'token', id: 't1', name: 'ci' } });
    stop();
    await store.log.append([event(3)]);
    expect(heard).toEqual([0, 1, 2]);
    expect((await store.log.entry(2)).record.submitter).toEqual({ type: 'token', id: 't1', name: 'ci' });
  });

  test('subscribers get the records as stored, as data', async () => {
    const commits: CommitEvent[] = [];
    store.log.subscribe((e) => commits.push(e));
    await store.log.append([event(0, { reason: 'r' }), event(1)]);
    const entries = commits[0]!.entries;
    for (const e of entries) expect(e.record).toEqual((await store.log.entry(e.index)).record);
    const copy = JSON.parse(JSON.stringify(entries[0])) as { record: unknown };
    expect(copy.record).toEqual((await store.log.entry(0)).record);
    expect({ ...entries[1]! }.record).toEqual((await store.log.entry(1)).record);
  });
});

describe('reopening', () => {
  test('a reopened log continues the same tree', async () => {
    await store.log.append([event(0), event(1), event(2)]);
    const before = await store.log.root(3);
    await store.log.close();
    store = await openStore(dir);
    expect(store.log.size()).toBe(3);
    expect(await store.log.root(3)).toEqual(before);
    const { entries, checkpoint } = await store.log.append([event(3)]);
    expect(entries[0]!.index).toBe(3);
    const verifier = await createVerifier(store.verifierKey);
    const cp = parseCheckpoint((await openNote(checkpoint, [verifier])).text);
    expect(cp.size).toBe(4);
    const proof = await store.log.consistencyProof(3, 4);
    expect(() => verifyConsistency(nodeHasher, 3, 4, proof, before, cp.root)).not.toThrow();
    expect(fromBase64(checkpoint.split('\n')[2]!)).toEqual(cp.root);
  });

  test('a read-only open cannot append', async () => {
    await store.log.close();
    store = await openStore(dir, { mode: 'read' });
    await expect(store.log.append([event(0)])).rejects.toMatchObject({ code: 'ERR_READ_ONLY' });
  });
});

describe('the Node signer', () => {
  test('signs exactly as the log core signer (Ed25519 is deterministic)', async () => {
    const { createSigner, generateSignerKey, signNote } = await import('@stele/log');
    const { createNodeSigner } = await import('./signer.js');
    const { signerKey } = await generateSignerKey('example.com/signer-test');
    const body = 'example.com/signer-test\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
    expect(await signNote(body, await createNodeSigner(signerKey))).toBe(await signNote(body, await createSigner(signerKey)));
  });
});
