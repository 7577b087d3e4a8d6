// Where one append's time goes, per event, measured with the real functions
// the log service calls, step by step over all events (batches of 1,000),
// each step timed on its own. The driver's commit runs on a fresh store of
// the same size as the append run's, since its cost grows with the store.
import { join } from 'node:path';
import {
  CompactRange, createSigner, formatCheckpoint, formatTime, generateSignerKey, recordBytes, signNote, toRecord, validateEvent,
} from '../packages/log/dist/index.js';
import { indexRowOf, nodeHasher, openSqliteDriver } from '../packages/store/dist/index.js';
import { batchIndexOf } from '../packages/store/dist/sqlite/batchIndex.js';
import { benchEvent } from './events.mjs';
import { now, tempDir } from './lib.mjs';

/** Microseconds per event of each step, over `count` events in batches of `batch`. */
export async function breakdown(count, batch) {
  const raw = Array.from({ length: count }, (_, i) => benchEvent(i));
  const received = formatTime(Date.UTC(2026, 10, 27, 12));
  const { signerKey } = await generateSignerKey('bench.example/stele');
  const signer = await createSigner(signerKey);
  const steps = {};
  const warm = Math.min(count, 2000);
  /** Runs `fn` over the first events to warm it up, then times it over all of them. */
  const time = (name, fn) => {
    fn(warm);
    const t = now();
    const out = fn(count);
    steps[name] = ((now() - t) * 1000) / count;
    return out;
  };

  const inputs = time('validate', (n) => raw.slice(0, n).map((e) => validateEvent(e).event));
  const records = time('toRecord', (n) => inputs.slice(0, n).map((e, i) => toRecord(e, { id: e.id, received, index: i })));
  const bytes = time('recordBytes', (n) => records.slice(0, n).map(recordBytes));
  const leaves = time('hash', (n) => bytes.slice(0, n).map((b) => nodeHasher.hashLeaf(b)));
  const rows = time('indexRow', (n) => records.slice(0, n).map(indexRowOf));
  time('batchIndex', (n) => {
    for (let i = 0; i < n; i += batch) batchIndexOf(i, rows.slice(i, Math.min(n, i + batch)));
  });
  // The compact range and the checkpoint: once per batch in the service.
  let notes = [];
  const hashes = [];
  steps.treeAndSign = await (async () => {
    const range = CompactRange.empty(nodeHasher);
    const t = now();
    for (let i = 0; i < count; i += batch) {
      const mine = [];
      for (let k = i; k < Math.min(count, i + batch); k++) {
        range.append(leaves[k], (level, index, hash) => level > 0 && level % 8 === 0 && mine.push({ level, index, hash }));
      }
      hashes.push(mine);
      const body = formatCheckpoint({ origin: 'bench.example/stele', size: range.size, root: range.root(), extensions: [] });
      notes.push(await signNote(body, signer));
    }
    return ((now() - t) * 1000) / count;
  })();

  // The driver's commit of the same batches (it builds the batch index inside).
  const dir = tempDir('breakdown');
  const driver = openSqliteDriver({ path: join(dir, 'stele.db') });
  await driver.putMeta('origin', 'bench.example/stele');
  const t = now();
  for (let i = 0, b = 0; i < count; i += batch, b++) {
    const entries = [];
    for (let k = i; k < Math.min(count, i + batch); k++) entries.push({ index: k, id: records[k].id, leafHash: leaves[k], bytes: bytes[k], row: rows[k] });
    await driver.commit({ entries, hashes: hashes[b], checkpoint: { size: i + entries.length, created: Date.now(), note: notes[b] }, historic: true });
  }
  steps.sqliteCommit = ((now() - t) * 1000) / count;
  await driver.close();
  // The driver's commit builds the batch index itself: counted under index rows.
  const out = {
    validate: steps.validate,
    toRecordAndBytes: steps.toRecord + steps.recordBytes,
    hash: steps.hash,
    indexRows: steps.indexRow + steps.batchIndex,
    treeAndSign: steps.treeAndSign,
    sqliteCommit: steps.sqliteCommit - steps.batchIndex,
  };
  out.sum = Object.values(out).reduce((a, b) => a + b, 0);
  out.detail = {
    toRecord: steps.toRecord,
    recordBytes: steps.recordBytes,
    indexRowOf: steps.indexRow,
    batchIndexOf: steps.batchIndex,
    driverCommit: steps.sqliteCommit,
  };
  return out;
}
