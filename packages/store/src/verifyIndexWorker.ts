/**
 * The worker of verifyIndex.ts. Over its own connections it reads the
 * entries in chunks, derives each record's query-index row and feeds the
 * driver's index checker, reporting after every chunk. After the first
 * problem it only derives rows (the walk must know whether one throws before
 * that problem); it stops at the first entry it cannot read as a record or
 * whose row throws (the walk stops there too), and when the walk asks it to.
 * Entries are hostile here as everywhere in verification; whatever goes
 * wrong, the walk starts over on one thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { EventRecord } from '@stele/log';
import type { IndexProblem, IndexRow, LogDriver } from './driver.js';
import { indexRowOf } from './indexRow.js';
import { entriesNeeded } from './sqlite/indexChecker.js';
import { openSqliteDriver } from './sqlite/driver.js';
import type { IndexMessage, IndexWork } from './verifyIndex.js';

const post = (message: IndexMessage): void => parentPort!.postMessage(message);

/** The record of an entry, or undefined where the walk will stop with a finding. */
function recordOf(text: unknown): EventRecord | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const record = JSON.parse(text) as EventRecord;
    // The walk's own test (parseEntry): anything else is ERR_ENTRY_MALFORMED there.
    return record && typeof record === 'object' && typeof record.actor === 'object' && record.actor !== null ? record : undefined;
  } catch {
    return undefined;
  }
}

const plain = (p: IndexProblem): IndexProblem => ({ index: p.index, message: p.message });

/**
 * The entries' text, read directly: this thread needs neither the leaf hashes
 * nor bytes. Entries that are not UTF-8 come back with replacement characters
 * rather than failing, but the walk stops at such an entry itself, and a
 * problem is only reported for entries before where the walk stopped.
 */
type Texts = (start: number, end: number) => [number, unknown][];

async function check(driver: LogDriver, texts: Texts, { size, chunk, stop }: IndexWork): Promise<void> {
  const stopped = () => Atomics.load(stop, 0) !== 0;
  const checker = driver.indexChecker();
  let problem: IndexProblem | undefined;
  let checked = 0;
  for (let start = 0; start < size; start += chunk) {
    if (stopped()) return;
    const end = Math.min(size, start + chunk);
    const entries = texts(start, end);
    const rows: IndexRow[] = [];
    let failedAt: number | undefined;
    for (let index = start; index < end; index++) {
      const entry = entries[index - start];
      const record = entry?.[0] === index ? recordOf(entry[1]) : undefined;
      try {
        if (record === undefined) throw new RangeError('unreadable');
        rows.push(indexRowOf(record));
      } catch {
        // The walk stops here, with a finding (unreadable) or the same exception.
        failedAt = index;
        break;
      }
    }
    // After the first problem, rows are still derived: the walk needs to know
    // whether deriving one throws before it reaches that problem.
    if (problem === undefined) {
      problem = await checker.check(start, rows);
      if (problem) {
        const needs = entriesNeeded(problem);
        if (needs === undefined) return post({ kind: 'failed', at: null });
        post({ kind: 'problem', problem: plain(problem), needs });
      } else {
        checked = start + rows.length;
      }
    }
    post({ kind: 'progress', rows: start + rows.length, checked });
    if (failedAt !== undefined) return post({ kind: 'failed', at: failedAt });
  }
  if (problem || stopped()) return;
  const last = await checker.finish(size);
  post({ kind: 'finish', problem: last && plain(last) });
}

async function main(): Promise<void> {
  const work = workerData as IndexWork;
  const driver = openSqliteDriver({ path: work.source.path, readonly: work.source.readonly });
  const db = new Database(work.source.path, { readonly: true, fileMustExist: true });
  try {
    const select = db.prepare('SELECT idx, CAST(data AS TEXT) FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx').raw();
    await check(driver, (start, end) => select.all(start, end) as [number, unknown][], work);
  } finally {
    db.close();
    await driver.close();
  }
}

main().catch(() => post({ kind: 'failed', at: null }));
