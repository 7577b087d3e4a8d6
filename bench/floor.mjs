// The floor under issue #2's append targets: the least work the issue asks of
// an append, on the same two threads Stele uses, with nothing else. Not Stele
// and not a design for it: an experiment that bounds what any store on this
// stack (Node 20, better-sqlite3, one SQLite file) can reach on this machine.
//
// The calling thread does, per event, only what no design can leave out:
// the record with its store-set fields, its bytes (JSON.stringify of an
// object built in a fixed key order: cheaper than RFC 8785, which has to
// sort whatever keys it is given), the leaf hash and one node hash into the
// tree, the event's words for the full-text index (its fields and the strings
// of its details, as free text must be found); per batch, one Ed25519
// signature. The writer thread (floorWriter.mjs) makes the SQLite writes the
// issue asks for, in one transaction a batch: each entry's row with its
// unique id, one FTS5 document per 64 entries, the tile hashes, the latest
// checkpoint; WAL, synchronous=FULL, 16 KiB pages. Left out, though the
// issue asks for them: validation of each field and its errors, the
// duplicate-id lookup, the query index's structured rows and zone map, the
// checkpoint history. Four callers of 1,000 events, as Stele is measured.
import { generateKeyPairSync, hash, sign } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { benchEvent } from './events.mjs';
import { cpuPerEvent, now, tempDir, threadCpu } from './lib.mjs';

/** Most bytes an event's record takes here (the bench's are about 570). */
const MAX_RECORD = 1024;

/**
 * Appends `total` bench events in calls of `batch` from `callers` callers at
 * once; the rate, the data directory and CPU µs an event per thread.
 */
export async function floorAppend(batch, total, callers) {
  const calls = [];
  for (let i = 0; i < total; i += batch) {
    calls.push(Array.from({ length: Math.min(batch, total - i) }, (_, k) => benchEvent(i + k)));
  }
  const dir = tempDir('floor');
  const writer = new Worker(new URL('./floorWriter.mjs', import.meta.url), { workerData: { file: `${dir}/floor.db` } });
  await new Promise((resolve) => writer.once('message', resolve));
  const pending = new Map();
  writer.on('message', (size) => {
    pending.get(size)();
    pending.delete(size);
  });

  const { privateKey } = generateKeyPairSync('ed25519');
  const received = new Date().toISOString();
  const pair = Buffer.alloc(65); // 0x01, then the tree's running hash, then the new leaf's
  pair[0] = 1;
  let size = 0;

  /** Seals one call's events, hands them to the writer; resolves once committed. */
  const append = (events) => {
    const first = size;
    const count = events.length;
    const bytes = Buffer.allocUnsafe(count * MAX_RECORD);
    const ends = new Uint32Array(count);
    const leaves = Buffer.allocUnsafe(count * 32);
    const ids = new Array(count);
    const docs = [];
    let doc = '';
    let at = 0;
    for (let k = 0; k < count; k++) {
      const e = events[k];
      const { actor, target } = e;
      const record = {
        action: e.action, actor: { email: actor.email, id: actor.id, name: actor.name }, details: e.details,
        device: e.device, host: e.host, id: e.id, index: first + k, outcome: e.outcome, received, source: e.source,
        target: { id: target.id, name: target.name, type: target.type }, time: e.time, v: 1,
      };
      bytes[at] = 0; // the leaf hash's prefix, hashed with the record
      const end = at + 1 + bytes.write(JSON.stringify(record), at + 1, 'latin1');
      leaves.write(hash('sha256', bytes.subarray(at, end), 'binary'), 32 * k, 'latin1');
      leaves.copy(pair, 33, 32 * k, 32 * k + 32);
      pair.write(hash('sha256', pair, 'binary'), 1, 'latin1');
      ends[k] = end;
      at = end;
      ids[k] = e.id;
      const words = `${e.source} ${e.outcome} ${e.action} ${actor.name} ${actor.email} ${actor.id} ${target.id} ${target.name} ${e.host}${strings(e.details)}`;
      doc = doc === '' ? words : `${doc}\n${words}`;
      if ((first + k + 1) % 64 === 0 || k === count - 1) {
        docs.push(doc);
        doc = '';
      }
    }
    size += count;
    const body = `floor\n${size}\n${pair.toString('base64', 1, 33)}\n`;
    const note = `${body}\n— floor ${sign(null, Buffer.from(body), privateKey).toString('base64')}\n`;
    const committed = new Promise((resolve) => pending.set(size, resolve));
    const packed = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + at);
    writer.postMessage({ first, count, ids: ids.join('\n'), ends, leaves, packed, docs, note }, [packed]);
    return committed;
  };

  let next = 0;
  const caller = async () => {
    while (next < calls.length) await append(calls[next++]);
  };
  const cpu = threadCpu();
  const t = now();
  await Promise.all(Array.from({ length: callers }, caller));
  const elapsed = now() - t;
  const cpuMicros = cpuPerEvent(cpu, threadCpu(), total);
  await writer.terminate();
  return { rate: total / (elapsed / 1000), dir, cpuMicros };
}

/** The strings in a JSON value, each after a space. */
function strings(value) {
  if (typeof value === 'string') return ' ' + value;
  if (value === null || typeof value !== 'object') return '';
  let out = '';
  for (const v of Object.values(value)) out += strings(v);
  return out;
}
