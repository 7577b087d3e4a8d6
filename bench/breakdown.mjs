// Where one append's time goes, per event, measured with the real functions
// the log service calls, batch by batch (1,000 events) as the service does,
// with a clock around each step. The driver's commit runs on a store that
// grows to the size of the append run's, since its cost grows with the store.
// The whole run is repeated and each step's fastest run counts: on a shared
// machine the others are the same work plus time lent to other processes.
import { join } from 'node:path';
import {
  CompactRange, formatCheckpoint, formatTime, entryBytes, generateSignerKey, prepareEvent, signNote, validateEvent,
} from '../packages/log/dist/index.js';
import { createNodeSigner, nodeHasher, openSqliteDriver } from '../packages/store/dist/index.js';
import { unitsOf } from '../packages/store/dist/sqlite/unitIndex.js';
import { batchFromWire as fromWire, batchToWire as toWire } from '../packages/store/dist/writer/transfer.js';
import { benchEvent } from './events.mjs';
import { now, removeDir, tempDir } from './lib.mjs';

const ORIGIN = 'bench.example/stele';

/** Microseconds per event of each step, over `count` events in batches of `batch`. */
export async function breakdown(count, batch, reps = 3) {
  const received = formatTime(Date.UTC(2026, 10, 27, 12));
  // The store's signer (crypto.sign on the calling thread), not the log core's WebCrypto one, whose thread-pool round trip is waiting, not work.
  const signer = await createNodeSigner((await generateSignerKey(ORIGIN)).signerKey);
  const best = {};
  for (let r = 0; r < reps; r++) {
    const steps = await run(count, batch, received, signer);
    for (const [k, v] of Object.entries(steps)) best[k] = Math.min(best[k] ?? Infinity, (v * 1000) / count);
  }
  // The driver's commit builds the units of its query index itself: counted under index rows.
  const out = {
    validate: best.validate,
    entryBytes: best.entryBytes,
    hash: best.hash,
    treeAndSign: best.treeAndSign,
    transfer: best.transfer,
    indexRows: best.indexRow + best.unitIndex,
    sqliteCommit: best.commit - best.unitIndex,
  };
  out.sum = Object.values(out).reduce((a, b) => a + b, 0);
  out.detail = {
    serviceThread: out.validate + out.entryBytes + out.hash + out.treeAndSign + out.transfer,
    writerThread: out.indexRows + out.sqliteCommit,
    fromWire: best.indexRow,
    unitsOf: best.unitIndex,
    driverCommit: best.commit,
  };
  return out;
}

/** One pass over `count` events; milliseconds spent in each step. */
async function run(count, batch, received, signer) {
  const steps = { validate: 0, entryBytes: 0, hash: 0, treeAndSign: 0, transfer: 0, indexRow: 0, unitIndex: 0, commit: 0 };
  let t = now();
  const lap = (step) => {
    const at = now();
    steps[step] += at - t;
    t = at;
  };
  const dir = tempDir('breakdown');
  const driver = openSqliteDriver({ path: join(dir, 'stele.db') });
  await driver.putMeta('origin', ORIGIN);
  const range = CompactRange.empty(nodeHasher);
  for (let first = 0; first < count; first += batch) {
    const raw = [];
    for (let i = first; i < Math.min(count, first + batch); i++) raw.push(benchEvent(i));
    t = now();
    const inputs = raw.map((e) => validateEvent(e).event);
    lap('validate');
    const bytes = inputs.map((e, k) => entryBytes(prepareEvent(e), { id: e.id, received, index: first + k }));
    lap('entryBytes');
    const leaves = bytes.map((b) => nodeHasher.hashLeaf(b));
    lap('hash');
    const hashes = [];
    for (const leaf of leaves) range.append(leaf, (level, index, hash) => level > 0 && level % 8 === 0 && hashes.push({ level, index, hash }));
    const note = await signNote(formatCheckpoint({ origin: ORIGIN, size: range.size, root: range.root(), extensions: [] }), signer);
    const checkpoint = { size: range.size, created: Date.now(), note };
    lap('treeAndSign');
    // The batch crosses to the writer thread as the service posts it (postMessage clones and transfers).
    const sent = inputs.map((e, k) => ({ index: first + k, id: e.id, leafHash: leaves[k], bytes: bytes[k] }));
    const { wire, transfer } = toWire({ entries: sent, hashes, checkpoint, historic: true, parent: null });
    const posted = structuredClone(wire, { transfer });
    lap('transfer');
    // The writer thread's side: the entries with their index rows, derived from the bytes.
    const written = fromWire(posted);
    lap('indexRow');
    unitsOf(first, written.entries.map((e) => e.row)); // what the driver's commit does again, inside
    lap('unitIndex');
    await driver.commit({ ...written, parent: undefined });
    lap('commit');
  }
  await driver.close();
  removeDir(dir);
  return steps;
}
