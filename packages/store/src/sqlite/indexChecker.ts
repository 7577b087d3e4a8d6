import type Database from 'better-sqlite3';
import type { IndexChecker, IndexProblem, IndexRow } from '../driver.js';
import { tokenize } from '../text.js';
import { batchIndexOf, decodeOffsets, postingKeys, type BatchIndex } from './batchIndex.js';

type Row = Record<string, unknown>;
type PostingRow = [unknown, unknown, Uint8Array];

let checkers = 0;
const needs = new WeakMap<IndexProblem, number>();

/**
 * How many entries (from index 0) a check must have been given to find this
 * problem: with rows for fewer, the same checker finds nothing (yet). Lets a
 * checker that ran ahead answer for a shorter prefix (see verifyIndex.ts).
 */
export function entriesNeeded(problem: IndexProblem): number | undefined {
  return needs.get(problem);
}

/** A problem that a check finds once it has rows for `count` entries. */
function found(problem: IndexProblem, count: number): IndexProblem {
  needs.set(problem, count);
  return problem;
}

/**
 * Compares the stored batch index with the rows expected from the entries,
 * batch by batch in index order, and names the first entry it is wrong about.
 */
export function sqliteIndexChecker(db: Database.Database): IndexChecker {
  const nextBatch = db.prepare('SELECT first, last, min_time, max_time FROM batches WHERE first >= ? ORDER BY first LIMIT 1');
  const postingsOf = db.prepare('SELECT field, value, offsets FROM postings WHERE first = ?').raw();
  const wordsOf = db.prepare('SELECT words FROM batch_text WHERE rowid = ?').pluck();
  const copy = `stele_verify_postings_${++checkers}`;
  let copied: Database.Statement | null | undefined;
  let covered = 0; // entries [0, covered) are checked
  let pending: IndexRow[] = []; // pending[done + i] is the row of entry covered + i
  let done = 0; // rows at the front of `pending` already checked

  function compare(batch: Row, rows: IndexRow[]): IndexProblem | undefined {
    const first = batch.first as number;
    const expected = batchIndexOf(first, rows);
    if (expected.minTime !== batch.min_time || expected.maxTime !== batch.max_time) {
      const i = rows.findIndex((r) => r.time < (batch.min_time as number) || r.time > (batch.max_time as number));
      return { index: first + Math.max(i, 0), message: `the time range of the batch at ${first} disagrees with its entries` };
    }
    const stored = postingsOfBatch(first);
    if (!samePostings(stored, expected)) {
      // The first entry in the symmetric difference of expected and stored posting lists.
      let worst = Infinity;
      const lists = new Map<string, number[]>();
      for (const [field, value, offsets] of stored) lists.set(`${field}\0${value}`, decodeOffsets(offsets));
      for (const key of new Set([...lists.keys(), ...expected.postings.keys()])) {
        const a = new Set(lists.get(key) ?? []);
        const b = new Set(expected.postings.get(key) ?? []);
        for (const o of a) if (!b.has(o)) worst = Math.min(worst, o);
        for (const o of b) if (!a.has(o)) worst = Math.min(worst, o);
      }
      if (worst !== Infinity) {
        const row = rows[worst];
        const fields = row ? postingKeys(row).map((k) => k.split('\0')[0]).join(', ') : 'an entry beyond the batch';
        return { index: first + worst, message: `the query index disagrees with entry ${first + worst} (indexed under ${fields})` };
      }
    }
    const words = wordsOf.get(first) as string | undefined;
    if (words !== expected.words) {
      const have = new Set((words ?? '').split(' '));
      const i = rows.findIndex((r) => tokenize(r.text).some((t) => !have.has(t)));
      return { index: first + Math.max(i, 0), message: `the full-text index of the batch at ${first} disagrees with its entries` };
    }
    return undefined;
  }

  /**
   * The stored posting rows of the batch at `first`, in primary key order.
   * The table is keyed by (field, value, first), so `WHERE first = ?` alone
   * scans all of it, once per batch; a copy keyed by batch, made once per
   * check (in the connection's TEMP schema, writable even read-only), turns
   * that into a lookup. Falls back to the scan if the copy cannot be made.
   */
  function postingsOfBatch(first: number): PostingRow[] {
    if (copied === undefined) {
      try {
        db.exec(`CREATE TEMP TABLE ${copy} AS SELECT first, field, value, offsets FROM main.postings ORDER BY first, field, value;
          CREATE INDEX temp.${copy}_first ON ${copy} (first);`);
        copied = db.prepare(`SELECT field, value, offsets FROM temp.${copy} WHERE first = ? ORDER BY rowid`).raw();
      } catch {
        copied = null;
      }
    }
    return (copied ?? postingsOf).all(first) as PostingRow[];
  }

  /** Removes the copy; the checker is done. */
  function dropCopy(): void {
    if (copied) db.exec(`DROP TABLE IF EXISTS temp.${copy}`);
    copied = null;
  }

  /** Drops the checked rows from the front of `pending`. */
  function compact(): void {
    pending = pending.slice(done);
    done = 0;
  }

  /** Checks every whole batch the pending rows cover. */
  function drain(final: boolean): IndexProblem | undefined {
    try {
      for (;;) {
        const waiting = pending.length - done;
        const batch = nextBatch.get(covered) as Row | undefined;
        if (!batch || (batch.first as number) !== covered) {
          if (waiting === 0 && (!final || !batch)) return undefined;
          return found({ index: covered, message: `no batch of the query index starts at entry ${covered}` }, covered + 1);
        }
        const length = (batch.last as number) - covered + 1;
        if (waiting < length) {
          return final ? { index: covered + waiting, message: `the query index covers entries beyond the log` } : undefined;
        }
        // A damaged batch row may end before it starts (or not be a number):
        // then slice exactly as on an array without checked rows in front.
        const whole = length > 0;
        if (!whole) compact();
        const problem = compare(batch, whole ? pending.slice(done, done + length) : pending.slice(0, length));
        if (problem) return found(problem, whole ? covered + length : covered);
        if (whole) done += length;
        else pending = pending.slice(length);
        covered += length;
      }
    } finally {
      // Drop checked rows now and then rather than shifting the array per batch.
      if (done > 0 && done >= pending.length >>> 1) compact();
    }
  }

  return {
    async check(start, rows) {
      if (start !== covered + pending.length - done) throw new RangeError('index rows must be checked in order');
      for (const row of rows) pending.push(row);
      const problem = drain(false);
      if (problem) dropCopy(); // verification stops at the first problem
      return problem;
    },
    async finish() {
      try {
        const problem = drain(true);
        if (problem) return problem;
      } finally {
        dropCopy();
      }
      try {
        // FTS5 checks its own index against its stored documents.
        db.prepare("INSERT INTO batch_text (batch_text, rank) VALUES ('integrity-check', 1)").run();
      } catch (err) {
        return { index: null, message: `the full-text index is damaged: ${(err as Error).message}` };
      }
      return undefined;
    },
  };
}

/**
 * True when the stored posting rows of a batch are exactly the expected lists
 * (the common case, checked without building sets). False sends the caller to
 * the exact comparison, which also decides what a difference means.
 */
function samePostings(stored: readonly PostingRow[], expected: BatchIndex): boolean {
  if (stored.length !== expected.postings.size) return false;
  // Every stored row matches a different expected list, and there are as many rows as lists.
  const matched = new Set<number[]>();
  for (const [field, value, offsets] of stored) {
    const list = expected.postings.get(`${field}\0${value}`);
    if (list === undefined || matched.has(list)) return false;
    matched.add(list);
    if (!(offsets instanceof Uint8Array) || offsets.length !== list.length * 4) return false;
    for (let i = 0, at = 0; i < list.length; i++, at += 4) {
      const o = (offsets[at]! | (offsets[at + 1]! << 8) | (offsets[at + 2]! << 16) | (offsets[at + 3]! << 24)) >>> 0;
      if (o !== list[i]) return false;
    }
  }
  return true;
}
