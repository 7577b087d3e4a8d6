import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync, statSync, writeFileSync, type WriteFileOptions } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { createVerifier, generateSignerKey, verifierKeyOf, type NoteVerifier } from '@stele/log';
import { StoreError } from './errors.js';
import { createNodeSigner } from './signer.js';
import type { LogDriver } from './driver.js';
import { openLog, type Log, type LogOptions } from './log.js';
import { openSqliteDriver } from './sqlite/driver.js';
import { describeGuards } from './verifyGuards.js';
import { commitOnWriterThread, sealOnWriterThread } from './writer/writerThread.js';

/** The files of a data directory. */
export const DATA_FILES = {
  database: 'stele.db',
  signerKey: 'signer.key',
  verifierKey: 'verifier.key',
} as const;

/** A default origin unique to this log: `<host>/stele/<8 hex>`. */
export function defaultOrigin(): string {
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '-') || 'localhost';
  return `${host}/stele/${randomBytes(4).toString('hex')}`;
}

/**
 * True when a log exists in the directory; false when there is none (no such
 * directory, or a file in the way). A directory that cannot be searched
 * throws ERR_STORE_ACCESS: a log that is there but unreadable is not missing.
 */
export function hasStore(dir: string): boolean {
  try {
    statSync(join(dir, DATA_FILES.database));
    return true;
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw accessError(`cannot read the data directory ${dir}`, err);
  }
}

/**
 * Creates a log in a directory (mode 0700): the SQLite file and an Ed25519
 * signer key named after the origin, both mode 0600 (SQLite gives the
 * database's WAL files its mode). Returns the verifier key.
 */
export async function initStore(dir: string, origin: string = defaultOrigin()): Promise<{ origin: string; verifierKey: string }> {
  if (hasStore(dir)) throw new StoreError('ERR_STORE_EXISTS', `a log already exists in ${dir}`);
  try {
    makeDirectory(dir);
  } catch (err) {
    throw accessError(`cannot create the data directory ${dir}`, err);
  }
  const { signerKey, verifierKey } = await generateSignerKey(origin);
  writeDataFile(dir, DATA_FILES.signerKey, signerKey + '\n', { mode: 0o600, flag: 'wx' });
  writeDataFile(dir, DATA_FILES.verifierKey, verifierKey + '\n', { mode: 0o644, flag: 'w' });
  writeDataFile(dir, DATA_FILES.database, '', { mode: 0o600, flag: 'wx' });
  const driver = openSqliteDriver({ path: join(dir, DATA_FILES.database) });
  try {
    await driver.putMeta('origin', origin);
    await driver.putMeta('verifier_key', verifierKey);
  } finally {
    await driver.close();
  }
  return { origin, verifierKey };
}

/** Reads the verifier key of the log in a directory. */
export function readVerifierKey(dir: string): string {
  requireStore(dir);
  return readDataFile(dir, DATA_FILES.verifierKey);
}

function requireStore(dir: string): void {
  if (!hasStore(dir)) throw new StoreError('ERR_STORE_MISSING', `no log in ${dir} (run stele init)`);
  // SQLite would only say "unable to open database file".
  const database = join(dir, DATA_FILES.database);
  try {
    accessSync(database, constants.R_OK);
  } catch (err) {
    throw accessError(`cannot read ${database}`, err);
  }
}

/**
 * Creates a directory and its missing parents (mode 0700 unless given), for
 * every path a user names (data directories, exports, archives). Not
 * mkdirSync's `recursive`: on Node 20 it never returns (100% CPU) when mkdir
 * fails with ENOENT under a parent that exists, as in /proc, retrying parent
 * and child. Throws Node's error (its `code` set) when it cannot.
 */
export function makeDirectory(dir: string, mode = 0o700): void {
  try {
    mkdirSync(dir, { mode });
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'EEXIST') {
      if (statSync(dir).isDirectory()) return;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR' });
    }
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
    makeDirectory(parent, mode);
    mkdirSync(dir, { mode }); // once: a second ENOENT is the answer
  }
}

function writeDataFile(dir: string, name: string, text: string, options: WriteFileOptions): void {
  const path = join(dir, name);
  try {
    writeFileSync(path, text, options);
  } catch (err) {
    throw accessError(`cannot write ${path}`, err);
  }
}

function readDataFile(dir: string, name: string): string {
  const path = join(dir, name);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw accessError(`cannot read ${path}`, err);
  }
}

function errnoOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * ERR_STORE_ACCESS for a failed file operation: what was tried, then the
 * system's reason and code (`permission denied (EACCES)`). Other errors are
 * returned as they are, to be rethrown.
 */
function accessError(what: string, err: unknown): unknown {
  const code = errnoOf(err);
  if (code === undefined || !/^E[A-Z0-9]+$/.test(code)) return err;
  const reason = /^E[A-Z0-9]+: ([^,]+)/.exec((err as Error).message)?.[1] ?? 'failed';
  return new StoreError('ERR_STORE_ACCESS', `${what}: ${reason} (${code})`);
}

/** A data directory opened for auditing: the driver and the log's key, without the log service. */
export interface AuditedStore {
  driver: LogDriver;
  origin: string;
  verifierKey: string;
  verifier: NoteVerifier;
}

/**
 * Opens a data directory for verification only. Unlike {@link openStore} it
 * does not rebuild the tree or compare it with the latest checkpoint, so it
 * opens a damaged store too: `stele verify` must be able to say what is wrong.
 */
export async function openForAudit(dir: string): Promise<AuditedStore> {
  requireStore(dir);
  const verifierKey = readVerifierKey(dir);
  const verifier = await createVerifier(verifierKey);
  const driver = openSqliteDriver({ path: join(dir, DATA_FILES.database) });
  const origin = await driver.getMeta('origin');
  if (!origin) {
    await driver.close();
    throw new StoreError('ERR_STORE_CORRUPT', 'the store has no origin');
  }
  return { driver, origin, verifierKey, verifier };
}

/**
 * Refuses to append to a store whose guards against changing committed rows
 * are missing or altered, closing the driver. Not restored: that would hide
 * the change from the next `stele verify`, which reports it.
 */
async function refuseUnguarded(driver: LogDriver): Promise<void> {
  const problems = (await driver.guardProblems?.()) ?? [];
  if (problems.length === 0) return;
  await driver.close();
  throw new StoreError('ERR_STORE_CORRUPT', `${describeGuards(problems, false)}; run stele verify`);
}

/** Options of {@link openStore}. */
export interface OpenStoreOptions extends Omit<LogOptions, 'driver' | 'signer' | 'origin' | 'sealer'> {
  /** `read` loads no signer key, so the log cannot be appended to (default `append`). */
  mode?: 'append' | 'read';
  /**
   * What a writer thread does when appending (see writer/writerThread.ts):
   * `commit` the batches this thread seals (the default), or `seal` and
   * commit them, for a thread that also serves HTTP; `none` writes on this
   * thread.
   */
  writerThread?: 'commit' | 'seal' | 'none';
}

/** An open data directory: the log service and the log's verifier. */
export interface Store {
  dir: string;
  log: Log;
  verifierKey: string;
  verifier: NoteVerifier;
}

/** Opens the log in a directory, with its signer unless read-only. */
export async function openStore(dir: string, options: OpenStoreOptions = {}): Promise<Store> {
  const { mode: _mode, writerThread = 'commit', ...logOptions } = options;
  requireStore(dir);
  const verifierKey = readVerifierKey(dir);
  const verifier = await createVerifier(verifierKey);
  let signer;
  let signerKey: string | undefined;
  if (options.mode !== 'read') {
    signerKey = readDataFile(dir, DATA_FILES.signerKey);
    if ((await verifierKeyOf(signerKey)) !== verifierKey) {
      throw new StoreError('ERR_STORE_CORRUPT', `${DATA_FILES.signerKey} does not match ${DATA_FILES.verifierKey}`);
    }
    signer = await createNodeSigner(signerKey);
  }
  const sqlite = openSqliteDriver({ path: join(dir, DATA_FILES.database) });
  if (signerKey !== undefined) await refuseUnguarded(sqlite);
  const driver = signerKey !== undefined && writerThread === 'commit' ? commitOnWriterThread(sqlite) : sqlite;
  const sealer = signerKey !== undefined && writerThread === 'seal' ? sealOnWriterThread(sqlite, signerKey) : undefined;
  try {
    const log = await openLog({ ...logOptions, driver, signer, sealer });
    return { dir, log, verifierKey, verifier };
  } catch (err) {
    await sealer?.close();
    await driver.close();
    throw err;
  }
}
