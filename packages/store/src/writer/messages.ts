/** The messages between the log service's thread and its writer thread. */
import type { ReaderSource } from '../readerSource.js';
import type { WireBatch, WireSealed, WireUnsealed } from './transfer.js';

/** The writer thread's workerData. */
export interface WriterData {
  source: ReaderSource;
  /** The log's signer key (signer.key's text), when the writer thread seals batches and signs their checkpoints. */
  signerKey?: string;
}

export type ToWriter =
  /** Commit a batch the service sealed. */
  | { kind: 'commit'; seq: number; batch: WireBatch }
  /** Seal a sequenced batch, then commit it. */
  | { kind: 'seal'; seq: number; batch: WireUnsealed }
  | { kind: 'close' };

export type FromWriter =
  | { kind: 'done'; seq: number; sealed?: WireSealed }
  | { kind: 'failed'; seq: number; error: WireError }
  /** The store could not be opened: nothing was committed; the thread exits. */
  | { kind: 'fatal'; error: WireError }
  | { kind: 'closed' };

/** An error as it crosses threads: enough to rebuild a StoreError or keep a SQLite code. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  store: boolean;
}

export function toWireError(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return { name: e.name, message: e.message, code: typeof code === 'string' ? code : undefined, store: e.name === 'StoreError' };
}
