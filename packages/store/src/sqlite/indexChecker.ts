import type Database from 'better-sqlite3';
import type { IndexChecker, IndexProblem, IndexRow } from '../driver.js';
import { tokenize } from '../text.js';
import { batchIndexOf, decodeOffsets, postingKeys } from './batchIndex.js';

type Row = Record<string, unknown>;

/**
 * Compares the stored batch index with the rows expected from the entries,
 * batch by batch in index order, and names the first entry it is wrong about.
 */
export function sqliteIndexChecker(db: Database.Database): IndexChecker {
  const nextBatch = db.prepare('SELECT first, last, min_time, max_time FROM batches WHERE first >= ? ORDER BY first LIMIT 1');
  const postingsOf = db.prepare('SELECT field, value, offsets FROM postings WHERE first = ?');
  const wordsOf = db.prepare('SELECT words FROM batch_text WHERE rowid = ?').pluck();
  let covered = 0; // entries [0, covered) are checked
  let pending: IndexRow[] = [];

  function compare(batch: Row, rows: IndexRow[]): IndexProblem | undefined {
    const first = batch.first as number;
    const expected = batchIndexOf(first, rows);
    if (expected.minTime !== batch.min_time || expected.maxTime !== batch.max_time) {
      const i = rows.findIndex((r) => r.time < (batch.min_time as number) || r.time > (batch.max_time as number));
      return { index: first + Math.max(i, 0), message: `the time range of the batch at ${first} disagrees with its entries` };
    }
    // The first entry in the symmetric difference of expected and stored posting lists.
    let worst = Infinity;
    const stored = new Map<string, number[]>();
    for (const r of postingsOf.all(first) as Row[]) stored.set(`${r.field}\0${r.value}`, decodeOffsets(r.offsets as Uint8Array));
    for (const key of new Set([...stored.keys(), ...expected.postings.keys()])) {
      const a = new Set(stored.get(key) ?? []);
      const b = new Set(expected.postings.get(key) ?? []);
      for (const o of a) if (!b.has(o)) worst = Math.min(worst, o);
      for (const o of b) if (!a.has(o)) worst = Math.min(worst, o);
    }
    if (worst !== Infinity) {
      const row = rows[worst];
      const fields = row ? postingKeys(row).map((k) => k.split('\0')[0]).join(', ') : 'an entry beyond the batch';
      return { index: first + worst, message: `the query index disagrees with entry ${first + worst} (indexed under ${fields})` };
    }
    const words = wordsOf.get(first) as string | undefined;
    if (words !== expected.words) {
      const have = new Set((words ?? '').split(' '));
      const i = rows.findIndex((r) => tokenize(r.text).some((t) => !have.has(t)));
      return { index: first + Math.max(i, 0), message: `the full-text index of the batch at ${first} disagrees with its entries` };
    }
    return undefined;
  }

  /** Checks every whole batch the pending rows cover. */
  function drain(final: boolean): IndexProblem | undefined {
    for (;;) {
      const batch = nextBatch.get(covered) as Row | undefined;
      if (!batch || (batch.first as number) !== covered) {
        if (pending.length === 0 && (!final || !batch)) return undefined;
        return { index: covered, message: `no batch of the query index starts at entry ${covered}` };
      }
      const length = (batch.last as number) - covered + 1;
      if (pending.length < length) {
        return final ? { index: covered + pending.length, message: `the query index covers entries beyond the log` } : undefined;
      }
      const problem = compare(batch, pending.slice(0, length));
      if (problem) return problem;
      pending = pending.slice(length);
      covered += length;
    }
  }

  return {
    async check(start, rows) {
      if (start !== covered + pending.length) throw new RangeError('index rows must be checked in order');
      for (const row of rows) pending.push(row);
      return drain(false);
    },
    async finish() {
      const problem = drain(true);
      if (problem) return problem;
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
