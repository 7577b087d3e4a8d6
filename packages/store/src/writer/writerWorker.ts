/**
 * The writer thread: commits the batches the log service posts, in order,
 * over its own connection to the store, and answers each once it is durable
 * (or refused, writing nothing). Batches the service sealed are committed as
 * they are; sequenced ones are sealed here first (seal.ts), when the thread
 * was given the signer key. Closed by asking, never by terminate(): a thread
 * terminated inside better-sqlite3 can take the process down.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LogDriver } from '../driver.js';
import { openSealer, type Sealer } from '../seal.js';
import { openSqliteDriver } from '../sqlite/driver.js';
import { toWireError, type FromWriter, type ToWriter, type WriterData } from './messages.js';
import { batchFromWire, sealedToWire, unsealedFromWire } from './transfer.js';

const port = parentPort!;
const post = (message: FromWriter, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
const { source, signerKey } = workerData as WriterData;

interface Opened {
  driver: LogDriver;
  sealer: Sealer | undefined;
}

/** The store's connection, and its sealer when given the key; undefined when it could not be opened (the thread then says so and exits). */
async function open(): Promise<Opened | undefined> {
  let driver: LogDriver | undefined;
  try {
    driver = openSqliteDriver({ path: source.path });
    return { driver, sealer: signerKey === undefined ? undefined : await openSealer(driver, signerKey) };
  } catch (err) {
    await driver?.close();
    post({ kind: 'fatal', error: toWireError(err) });
    port.close();
    return undefined;
  }
}

function handle({ driver, sealer }: Opened, message: ToWriter): void {
  const failed = (seq: number) => (err: unknown) => post({ kind: 'failed', seq, error: toWireError(err) });
  switch (message.kind) {
    case 'close':
      void (sealer?.close() ?? Promise.resolve()).then(() => driver.close()).finally(() => {
        post({ kind: 'closed' });
        port.close();
      });
      return;
    case 'commit':
      driver.commit(batchFromWire(message.batch)).then(() => post({ kind: 'done', seq: message.seq }), failed(message.seq));
      return;
    case 'seal':
      if (!sealer) {
        failed(message.seq)(new Error('the writer thread was started without the signer key'));
        return;
      }
      sealer.commit(unsealedFromWire(message.batch)).then((sealed) => {
        const { wire, transfer } = sealedToWire(sealed);
        post({ kind: 'done', seq: message.seq, sealed: wire }, transfer);
      }, failed(message.seq));
  }
}

// Messages that arrive while the store is being opened wait for it, in order.
const opened = open();
port.on('message', (message: ToWriter) => {
  void opened.then((store) => store && handle(store, message));
});
