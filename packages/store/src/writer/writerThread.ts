/**
 * A SQLite store's writes on a writer thread, so that the log service's
 * thread sequences the next batches while the thread writes and fsyncs the
 * ones before: the two cores of a small machine both busy. Two ways to use
 * it:
 *
 * - commitOnWriterThread: the service seals each batch (leaf hashes, tree,
 *   signed checkpoint) and the thread commits it. Best where the service's
 *   thread does little else (`stele append`, bulk loads).
 * - sealOnWriterThread: the thread seals and commits. Best where the
 *   service's thread also serves HTTP (`stele serve`): the hashing and the
 *   signature leave the thread that every request needs.
 *
 * Every other call stays on the service's own connection: in WAL mode it
 * reads what the writer committed as soon as the commit returns.
 *
 * If the thread cannot start or dies, commits (and sealing) fall back to the
 * service's own thread and connection: a batch whose fate is unknown is
 * refused, and the service then re-reads the store (it does after any failed
 * commit), so nothing is acknowledged that is not durable and nothing is
 * written twice.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Batch, LogDriver } from '../driver.js';
import { StoreError, type StoreErrorCode } from '../errors.js';
import { readerSourceOf, setReaderSource, type ReaderSource } from '../readerSource.js';
import { openSealer, type SealedBatch, type Sealer, type UnsealedBatch } from '../seal.js';
import type { FromWriter, ToWriter, WireError, WriterData } from './messages.js';
import { batchToWire, sealedFromWire, unsealedToWire, type WireSealed } from './transfer.js';

/** Where the compiled writer thread is. Internal; tests point it at the build. */
export const writerSettings = {
  /** Absent when running from TypeScript sources, which then write on the calling thread. */
  script: new URL('./writerWorker.js', import.meta.url),
};

function fromWireError(e: WireError): Error {
  if (e.store) return new StoreError(e.code as StoreErrorCode, e.message);
  const err = new Error(e.message) as Error & { code?: string };
  err.name = e.name;
  if (e.code !== undefined) err.code = e.code;
  return err;
}

/** The store another thread can open for the driver, if any (not in memory, not another kind) and the compiled writer is there. */
function threadSource(driver: LogDriver): ReaderSource | undefined {
  const source = readerSourceOf(driver);
  if (!source || source.readonly || source.kind !== 'sqlite' || !existsSync(fileURLToPath(writerSettings.script))) return undefined;
  return source;
}

type Request = { kind: 'commit'; batch: Batch } | { kind: 'seal'; batch: UnsealedBatch };

interface WriterThread {
  /** False once the thread failed or exited: requests are then refused. */
  readonly alive: boolean;
  /** Posts a request and waits for the thread's answer. */
  request(request: Request): Promise<WireSealed | undefined>;
  /** Asks the thread to finish and close its connection. */
  close(): Promise<void>;
}

function startWriterThread(source: ReaderSource, signerKey?: string): WriterThread {
  const worker = new Worker(writerSettings.script, { workerData: { source, signerKey } satisfies WriterData });
  worker.unref();
  const waiting = new Map<number, { resolve(sealed: WireSealed | undefined): void; reject(err: unknown): void }>();
  let seq = 0;
  let alive = true;
  let closing: Promise<void> | undefined;
  let closed: (() => void) | undefined;

  const fail = (err: Error) => {
    alive = false;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
    worker.unref();
    closed?.();
  };
  const settle = (n: number, answer: (w: { resolve(sealed: WireSealed | undefined): void; reject(err: unknown): void }) => void) => {
    const w = waiting.get(n);
    if (!w) return;
    waiting.delete(n);
    if (waiting.size === 0) worker.unref();
    answer(w);
  };
  worker.on('message', (m: FromWriter) => {
    if (m.kind === 'done') settle(m.seq, (w) => w.resolve(m.sealed));
    else if (m.kind === 'failed') settle(m.seq, (w) => w.reject(fromWireError(m.error)));
    else if (m.kind === 'fatal') fail(new Error(`the writer thread could not open the store: ${m.error.message}`));
    else closed?.();
  });
  worker.on('error', (err) => fail(new Error(`the writer thread failed: ${err.message}`)));
  worker.on('exit', () => fail(new Error('the writer thread exited')));

  return {
    get alive() {
      return alive && !closing;
    },
    request(request) {
      const n = ++seq;
      const { wire, transfer } = request.kind === 'commit' ? batchToWire(request.batch) : unsealedToWire(request.batch);
      const message = (request.kind === 'commit' ? { kind: 'commit', seq: n, batch: wire } : { kind: 'seal', seq: n, batch: wire }) as ToWriter;
      const done = new Promise<WireSealed | undefined>((resolve, reject) => waiting.set(n, { resolve, reject }));
      worker.ref();
      worker.postMessage(message, transfer);
      return done;
    },
    close() {
      closing ??= (async () => {
        if (!alive) return;
        const done = new Promise<void>((resolve) => (closed = resolve));
        worker.ref();
        worker.postMessage({ kind: 'close' } satisfies ToWriter);
        await done;
      })();
      return closing;
    },
  };
}

/**
 * The driver with its commits moved to a writer thread, or the driver itself
 * when the thread cannot be used. Closing it closes the thread, then the driver.
 */
export function commitOnWriterThread(driver: LogDriver): LogDriver {
  const source = threadSource(driver);
  if (!source) return driver;
  const thread = startWriterThread(source);
  const wrapped: LogDriver = {
    ...driver,
    async commit(batch) {
      if (!thread.alive) return driver.commit(batch);
      await thread.request({ kind: 'commit', batch });
    },
    async close() {
      await thread.close();
      await driver.close();
    },
  };
  setReaderSource(wrapped, source);
  return wrapped;
}

/**
 * A sealer on a writer thread for the store behind `driver`, signing with
 * `signerKey` (signer.key's text); undefined when the thread cannot be used.
 * Closing it closes the thread, not the driver.
 */
export function sealOnWriterThread(driver: LogDriver, signerKey: string): Sealer | undefined {
  const source = threadSource(driver);
  if (!source) return undefined;
  const thread = startWriterThread(source, signerKey);
  /** The latest view of a batch posted to the thread: once it is gone, batches of that view and earlier are refused. */
  let postedView = -Infinity;
  /** Seals on this thread, over the service's connection, once the writer thread is gone. */
  let local: Promise<Sealer> | undefined;
  const localSealer = () => (local ??= openSealer(driver, signerKey));

  return {
    async commit(batch): Promise<SealedBatch> {
      if (!thread.alive) {
        // Sequenced on batches whose fate the thread took with it: the service reads the store again first.
        if (batch.view <= postedView) {
          throw new StoreError('ERR_SIZE_CONFLICT', 'the batch was sequenced on one the writer thread did not answer for');
        }
        return (await localSealer()).commit(batch);
      }
      postedView = Math.max(postedView, batch.view);
      const sealed = await thread.request({ kind: 'seal', batch });
      if (!sealed) throw new Error('the writer thread answered a batch to seal without its seal');
      return sealedFromWire(sealed);
    },
    async close() {
      await thread.close();
      if (local) await (await local).close();
    },
  };
}
