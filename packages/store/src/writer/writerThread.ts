/**
 * Runs a SQLite driver's commits on a writer thread, so that the log service
 * sequences, hashes and signs the next batch while the previous one is being
 * written and fsynced (the two cores of a small machine both busy). Every
 * other call stays on the service's own connection: in WAL mode it reads what
 * the writer committed as soon as the commit returns.
 *
 * If the thread cannot start or dies, commits fall back to the service's own
 * connection: a batch whose fate is unknown is refused, and the service then
 * re-reads the store (it does after any failed commit), so nothing is
 * acknowledged that is not durable and nothing is written twice.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Batch, LogDriver } from '../driver.js';
import { StoreError, type StoreErrorCode } from '../errors.js';
import { readerSourceOf, setReaderSource } from '../readerSource.js';
import type { FromWriter, ToWriter, WireError, WriterData } from './messages.js';
import { toWire } from './transfer.js';

/** Where the compiled writer thread is. Internal; tests point it at the build. */
export const writerSettings = {
  /** Absent when running from TypeScript sources, which then commit on the calling thread. */
  script: new URL('./writerWorker.js', import.meta.url),
};

interface Waiting {
  resolve(): void;
  reject(err: unknown): void;
}

function fromWireError(e: WireError): Error {
  if (e.store) return new StoreError(e.code as StoreErrorCode, e.message);
  const err = new Error(e.message) as Error & { code?: string };
  err.name = e.name;
  if (e.code !== undefined) err.code = e.code;
  return err;
}

/**
 * The driver with its commits moved to a writer thread, or the driver itself
 * when it has no store another thread can open (in memory, another kind) or
 * the compiled writer is not there.
 */
export function withWriterThread(driver: LogDriver): LogDriver {
  const source = readerSourceOf(driver);
  if (!source || source.readonly || source.kind !== 'sqlite' || !existsSync(fileURLToPath(writerSettings.script))) return driver;

  const worker = new Worker(writerSettings.script, { workerData: { source } satisfies WriterData });
  worker.unref();
  const waiting = new Map<number, Waiting>();
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
  const settle = (n: number, err?: Error) => {
    const w = waiting.get(n);
    if (!w) return;
    waiting.delete(n);
    if (waiting.size === 0) worker.unref();
    if (err) w.reject(err);
    else w.resolve();
  };
  worker.on('message', (m: FromWriter) => {
    if (m.kind === 'done') settle(m.seq);
    else if (m.kind === 'failed') settle(m.seq, fromWireError(m.error));
    else if (m.kind === 'fatal') fail(new Error(`the writer thread could not open the store: ${m.error.message}`));
    else closed?.();
  });
  worker.on('error', (err) => fail(new Error(`the writer thread failed: ${err.message}`)));
  worker.on('exit', () => fail(new Error('the writer thread exited')));

  const wrapped: LogDriver = {
    ...driver,
    async commit(batch: Batch) {
      if (!alive || closing) return driver.commit(batch);
      const { wire, transfer } = toWire(batch);
      const n = ++seq;
      const done = new Promise<void>((resolve, reject) => waiting.set(n, { resolve, reject }));
      worker.ref();
      worker.postMessage({ kind: 'commit', seq: n, batch: wire } satisfies ToWriter, transfer);
      return done;
    },
    async close() {
      closing ??= (async () => {
        if (alive) {
          const done = new Promise<void>((resolve) => (closed = resolve));
          worker.ref();
          worker.postMessage({ kind: 'close' } satisfies ToWriter);
          await done;
        }
        await driver.close();
      })();
      return closing;
    },
  };
  setReaderSource(wrapped, source);
  return wrapped;
}
