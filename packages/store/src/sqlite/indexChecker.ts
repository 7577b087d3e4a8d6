import type Database from 'better-sqlite3';
import type { IndexChecker, IndexProblem, IndexRow } from '../driver.js';
import { seekIndexProblem } from './ftsSeek.js';
import { UNIT, segmentEnd } from './unitIndex.js';

/** A unit row as stored; hostile, so its columns may hold anything. */
type StoredUnit = [first: unknown, last: unknown, minTime: unknown, maxTime: unknown];
/** A full-text document as stored: its rowid and text. */
type StoredDoc = [rowid: number, doc: unknown];

/**
 * A disagreement found by a {@link UnitComparer}, with how many entries (from
 * index 0) a check needs rows for to find it: with fewer it finds nothing.
 * Verification reports it only if the walk derived that many rows before it
 * stopped on anything else, as a check fed in index order would.
 */
export interface UnitProblem extends IndexProblem {
  needs: number;
}

/** What the index stores about the units and documents starting in [from, to). */
export interface UnitReader {
  units(from: number, to: number): StoredUnit[];
  docs(from: number, to: number): StoredDoc[];
  /** Units and documents starting at or after `from`: nothing of a log of `from` entries. */
  beyond(from: number): { unit?: number; doc?: number };
  /** The entries stored now (a log may grow while it is verified). */
  stored(): number;
  /** FTS5's own check of its inverted index against its documents, and of its seek index (ftsSeek.ts); a message when damaged. */
  integrity(): string | undefined;
}

/**
 * Reads the unit index over a connection (read-only is enough). Documents are
 * read from FTS5's content table: FTS5 itself scans a rowid range of its
 * table many times slower, and its integrity check holds the inverted index
 * to that same content.
 */
export function unitReader(db: Database.Database): UnitReader {
  const units = db.prepare('SELECT first, last, min_time, max_time FROM units WHERE first >= ? AND first < ? ORDER BY first').raw();
  const docs = db.prepare('SELECT id, c0 FROM unit_text_content WHERE id >= ? AND id < ? ORDER BY id').raw();
  const firstUnit = db.prepare('SELECT min(first) FROM units WHERE first >= ?').pluck();
  const firstDoc = db.prepare('SELECT min(id) FROM unit_text_content WHERE id >= ?').pluck();
  const integrity = db.prepare('PRAGMA integrity_check(unit_text)').pluck();
  const maxIdx = db.prepare('SELECT max(idx) FROM entries').pluck();
  return {
    stored: () => ((maxIdx.get() as number | null) ?? -1) + 1,
    units: (from, to) => units.all(from, to) as StoredUnit[],
    docs: (from, to) => docs.all(from, to) as StoredDoc[],
    beyond(from) {
      const unit = firstUnit.get(from) as number | null;
      const doc = firstDoc.get(from) as number | null;
      return { ...(unit === null ? {} : { unit }), ...(doc === null ? {} : { doc }) };
    },
    integrity() {
      try {
        const lines = integrity.all() as string[];
        if (lines.length !== 1 || lines[0] !== 'ok') return lines.join('; ');
        const seek = seekIndexProblem(db, 'unit_text');
        return seek && `the seek index has ${seek}`;
      } catch (err) {
        return (err as Error).message;
      }
    },
  };
}

const problem = (index: number, needs: number, message: string): UnitProblem => ({ index, needs, message });

/** Entries whose units are read at a time. */
const WINDOW = 4096;

/**
 * Compares the units from entry `from` on with the rows of the entries, fed
 * one at a time in index order: the units must tile the entries, one after
 * the other, each within one block of {@link UNIT}; and each unit, once all
 * its entries have rows, must hold their time range and, in its document,
 * their segments. Reports the first problem (and nothing after it).
 */
export class UnitComparer {
  readonly #reader: UnitReader;
  #units: StoredUnit[] = [];
  #docs: StoredDoc[] = [];
  #u = 0;
  #d = 0;
  /** Units and documents are read up to here. */
  #loaded: number;
  /** Units are checked up to here: the first entry of the unit being filled. */
  #covered: number;
  #last = -1;
  #rows: IndexRow[] = [];
  #problem: UnitProblem | undefined;

  readonly #to: number;

  /** Compares the units starting in [from, to). */
  constructor(reader: UnitReader, from: number, to = Number.MAX_SAFE_INTEGER) {
    this.#reader = reader;
    this.#loaded = from;
    this.#covered = from;
    this.#to = to;
  }

  /** Where the check got to: the first entry of the first unit not yet checked. */
  get covered(): number {
    return this.#covered;
  }

  /** The row of the next entry; the first problem, once found. */
  add(row: IndexRow): UnitProblem | undefined {
    if (this.#problem) return this.#problem;
    const index = this.#covered + this.#rows.length;
    if (this.#rows.length === 0) {
      this.#load(index);
      const unit = this.#units[this.#u];
      if (!unit || unit[0] !== index) return (this.#problem = problem(index, index + 1, `no unit of the query index starts at entry ${index}`));
      const last = unit[1];
      if (typeof last !== 'number' || !Number.isSafeInteger(last) || last < index || Math.floor(last / UNIT) !== Math.floor(index / UNIT)) {
        return (this.#problem = problem(index, index + 1, `the unit of the query index at ${index} has a malformed range`));
      }
      this.#last = last;
    }
    this.#rows.push(row);
    if (index < this.#last) return undefined;
    this.#problem = this.#compare(this.#units[this.#u++]!, this.#rows);
    this.#covered = index + 1;
    this.#rows = [];
    return this.#problem;
  }

  /** Reads the window holding `index` when the units read so far end before it. */
  #load(index: number): void {
    if (index < this.#loaded) return;
    this.#loaded = Math.min(index - (index % WINDOW) + WINDOW, this.#to);
    // Left over: a document inside the last unit's range was reported with it; anything else is in the new window.
    this.#units = this.#reader.units(index, this.#loaded);
    this.#docs = this.#reader.docs(index, this.#loaded);
    this.#u = 0;
    this.#d = 0;
  }

  /** The problem of one unit whose entries all have rows. */
  #compare(unit: StoredUnit, rows: IndexRow[]): UnitProblem | undefined {
    const first = unit[0] as number;
    const last = this.#last;
    const needs = last + 1;
    let minTime = Infinity;
    let maxTime = -Infinity;
    for (const row of rows) {
      if (row.time < minTime) minTime = row.time;
      if (row.time > maxTime) maxTime = row.time;
    }
    if (minTime !== unit[2] || maxTime !== unit[3]) {
      const [, , low, high] = unit;
      const outside = typeof low === 'number' && typeof high === 'number' ? rows.findIndex((r) => r.time < low || r.time > high) : 0;
      return problem(first + Math.max(outside, 0), needs, `the time range of the unit at ${first} disagrees with its entries`);
    }
    const docs = this.#docs;
    const doc = this.#d < docs.length && docs[this.#d]![0] === first ? docs[this.#d++]![1] : undefined;
    if (typeof doc !== 'string') return problem(first, needs, `the unit at ${first} has no full-text document`);
    // Another document inside the unit: a unit the query index does not have.
    if (this.#d < docs.length && docs[this.#d]![0] <= last) {
      const at = docs[this.#d]![0];
      return problem(at, needs, `a full-text document at ${at} belongs to no unit of the query index`);
    }
    // Segment by segment, in place: each must be followed by a newline, the last by the end.
    let at = 0;
    for (let i = 0; i < rows.length; i++) {
      const end = segmentEnd(doc, at, rows[i]!);
      if (end < 0 || (end === doc.length) !== (i === rows.length - 1) || (end < doc.length && doc.charCodeAt(end) !== 0x0a)) {
        return problem(first + i, needs, `the full-text index disagrees with entry ${first + i}`);
      }
      at = end + 1;
    }
    return undefined;
  }
}

/**
 * Whatever the index holds beyond a log of `size` entries, whose units were
 * checked up to `covered`. With `growing`, units of entries appended since
 * the walk began (a collector writing meanwhile) are no problem.
 */
export function tailProblem(reader: UnitReader, covered: number, size: number, growing = false): IndexProblem | undefined {
  const beyond = reader.beyond(growing ? Math.max(size, reader.stored()) : size);
  if (covered < size || beyond.unit !== undefined || beyond.doc !== undefined) return { index: size, message: 'the query index covers entries beyond the log' };
  return undefined;
}

/** FTS5's check of its own inverted index, as a problem of the query index. */
export function integrityProblem(reader: UnitReader): IndexProblem | undefined {
  const damage = reader.integrity();
  return damage === undefined ? undefined : { index: null, message: `the full-text index is damaged: ${damage}` };
}

/**
 * The unit index checked as verification feeds it rows in index order: every
 * unit once all its entries have rows, naming the first entry it is wrong
 * about.
 */
export function sqliteIndexChecker(db: Database.Database): IndexChecker {
  const reader = unitReader(db);
  const comparer = new UnitComparer(reader, 0);
  let next = 0;
  return {
    async check(start, rows) {
      if (start !== next) throw new RangeError('index rows must be checked in order');
      next += rows.length;
      for (const row of rows) {
        const found = comparer.add(row);
        if (found) return { index: found.index, message: found.message };
      }
      return undefined;
    },
    async finish(size) {
      return tailProblem(reader, comparer.covered, size) ?? integrityProblem(reader);
    },
  };
}
