/**
 * The writer thread: commits the batches the log service posts, in order,
 * over its own connection to the store, and answers each once it is durable
 * (or refused, writing nothing). Closed by asking, never by terminate(): a
 * thread terminated inside better-sqlite3 can take the process down.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LogDriver } from '../driver.js';
import { openSqliteDriver } from '../sqlite/driver.js';
import { toWireError, type FromWriter, type ToWriter, type WriterData } from './messages.js';
import { fromWire } from './transfer.js';

const port = parentPort!;
const post = (message: FromWriter): void => port.postMessage(message);
const { source } = workerData as WriterData;

let driver: LogDriver | undefined;
try {
  driver = openSqliteDriver({ path: source.path });
} catch (err) {
  post({ kind: 'fatal', error: toWireError(err) });
}

if (driver) {
  const open = driver;
  port.on('message', (message: ToWriter) => {
    if (message.kind === 'close') {
      void open.close().finally(() => {
        post({ kind: 'closed' });
        port.close();
      });
      return;
    }
    open.commit(fromWire(message.batch)).then(
      () => post({ kind: 'done', seq: message.seq }),
      (err: unknown) => post({ kind: 'failed', seq: message.seq, error: toWireError(err) }),
    );
  });
}
