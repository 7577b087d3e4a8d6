import type Database from 'better-sqlite3';
import type { IndexChecker, IndexProblem, IndexRow } from '../driver.js';
import { seekIndexProblem } from './ftsSeek.js';
import { FIELD, FREE_TEXT_FIELDS, rowOfScan, type EntryScan } from '../entryScan.js';
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
 *
 * Each row is compared as it comes (its time with the unit's range, its
 * segment with the document where the last one ended), nothing is kept, and
 * a unit's problem is reported once its last row is in, in the order a
 * comparison of the whole unit would find them.
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
  readonly #to: number;
  #problem: UnitProblem | undefined;

  // The unit being filled: its stored row, the rows so far, and what they found.
  #unit: StoredUnit = [0, 0, 0, 0];
  #last = -1;
  #rows = 0;
  #minTime = Infinity;
  #maxTime = -Infinity;
  /** The first row whose time is outside the stored range; 0 when the range is not two numbers, -1 for none yet. */
  #outside = -1;
  #doc: unknown;
  /** Whether the document is ASCII and in docBytes (for scanned entries), and its length. */
  #ascii = false;
  #docLength = 0;
  /** A document inside the unit's range after its own (a unit the index does not have), -1 for none. */
  #stray = -1;
  /** Where the next segment starts in the document, or -1 once a segment disagreed (or there is no document). */
  #at = 0;
  /** The first row whose segment disagrees. */
  #wrong = -1;

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

  /** After the last row: the first problem, and where the check got to. */
  end(): { problem?: UnitProblem; covered: number } {
    return this.#problem ? { problem: this.#problem, covered: this.#covered } : { covered: this.#covered };
  }

  /** The row of the next entry; the first problem, once found. */
  add(row: IndexRow): UnitProblem | undefined {
    if (this.#problem || (this.#rows === 0 && this.#begin())) return this.#problem;
    const end = this.#at >= 0 ? segmentEnd(this.#doc as string, this.#at, row) : 0;
    return this.#step(row.time, end);
  }

  /** The next entry as scanned (entryScan.ts), its row not built; the first problem, once found. */
  scanned(scan: EntryScan): UnitProblem | undefined {
    if (this.#problem || (this.#rows === 0 && this.#begin())) return this.#problem;
    let end = 0;
    if (this.#at >= 0) {
      // An ASCII document is compared as bytes, with the scan's bytes; any other with the row.
      // (Written again if another comparer took the bytes meanwhile.)
      if (this.#ascii && docBytes.holder !== this) docBytes.write(this.#doc as string, this);
      end = this.#ascii ? scannedSegmentEnd(docBytes.bytes, this.#docLength, this.#at, scan) : segmentEnd(this.#doc as string, this.#at, rowOfScan(scan));
    }
    return this.#step(scan.time, end);
  }

  /** Starts the unit of the next entry; true when there is none (the problem is set). */
  #begin(): boolean {
    const index = this.#covered;
    this.#load(index);
    const unit = this.#units[this.#u];
    if (!unit || unit[0] !== index) {
      this.#problem = problem(index, index + 1, `no unit of the query index starts at entry ${index}`);
      return true;
    }
    const last = unit[1];
    if (typeof last !== 'number' || !Number.isSafeInteger(last) || last < index || Math.floor(last / UNIT) !== Math.floor(index / UNIT)) {
      this.#problem = problem(index, index + 1, `the unit of the query index at ${index} has a malformed range`);
      return true;
    }
    this.#unit = unit;
    this.#last = last;
    this.#minTime = Infinity;
    this.#maxTime = -Infinity;
    this.#outside = typeof unit[2] === 'number' && typeof unit[3] === 'number' ? -1 : 0;
    const docs = this.#docs;
    this.#doc = this.#d < docs.length && docs[this.#d]![0] === index ? docs[this.#d++]![1] : undefined;
    this.#stray = this.#d < docs.length && docs[this.#d]![0] <= last ? docs[this.#d]![0] : -1;
    this.#at = typeof this.#doc === 'string' ? 0 : -1;
    this.#ascii = typeof this.#doc === 'string' && docBytes.write(this.#doc, this);
    this.#docLength = this.#ascii ? (this.#doc as string).length : 0;
    this.#wrong = -1;
    return false;
  }

  /** One row: its time, and where its segment ends in the document (-1: it is not there). */
  #step(time: number, end: number): UnitProblem | undefined {
    const i = this.#rows++;
    if (time < this.#minTime) this.#minTime = time;
    if (time > this.#maxTime) this.#maxTime = time;
    if (this.#outside < 0 && (time < (this.#unit[2] as number) || time > (this.#unit[3] as number))) this.#outside = i;
    const index = this.#covered + i;
    if (this.#at >= 0) {
      // Each segment is followed by a newline, the last by the end of the document.
      const doc = this.#doc as string;
      if (end < 0 || (end === doc.length) !== (index === this.#last) || (end < doc.length && doc.charCodeAt(end) !== 0x0a)) {
        this.#wrong = i;
        this.#at = -1;
      } else {
        this.#at = end + 1;
      }
    }
    if (index < this.#last) return undefined;
    this.#problem = this.#verdict();
    this.#u++;
    this.#covered = index + 1;
    this.#rows = 0;
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

  /** The problem of the unit whose rows are all in: its time range, its document, then the first wrong segment. */
  #verdict(): UnitProblem | undefined {
    const first = this.#covered;
    const needs = this.#last + 1;
    if (this.#minTime !== this.#unit[2] || this.#maxTime !== this.#unit[3]) {
      return problem(first + Math.max(this.#outside, 0), needs, `the time range of the unit at ${first} disagrees with its entries`);
    }
    if (typeof this.#doc !== 'string') return problem(first, needs, `the unit at ${first} has no full-text document`);
    if (this.#stray >= 0) return problem(this.#stray, needs, `a full-text document at ${this.#stray} belongs to no unit of the query index`);
    if (this.#wrong >= 0) return problem(first + this.#wrong, needs, `the full-text index disagrees with entry ${first + this.#wrong}`);
    return undefined;
  }
}

/** The document of the unit being compared, as bytes: one buffer per thread, for the comparer that wrote it last. */
const docBytes = {
  buffer: Buffer.alloc(64 * 1024),
  bytes: new Uint8Array(0),
  holder: undefined as UnitComparer | undefined,
  /** Writes an ASCII document for `holder`; false (nothing written) when it is not ASCII or too long. */
  write(doc: string, holder: UnitComparer): boolean {
    this.holder = undefined;
    // Room for any document of that length (at most 3 bytes a character), so that nothing is cut:
    // then as many bytes as characters are written only when every character is ASCII.
    if (3 * doc.length > this.buffer.length) {
      if (doc.length > MAX_DOC_LENGTH) return false;
      this.buffer = Buffer.alloc(3 * doc.length);
    }
    if (this.buffer.write(doc, 0, 'utf8') !== doc.length) return false;
    if (this.bytes.buffer !== this.buffer.buffer) this.bytes = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
    this.holder = holder;
    return true;
  },
};

/** Longer documents are compared as strings. */
const MAX_DOC_LENGTH = 1024 * 1024;

/**
 * Where the segment of a scanned entry ends when the ASCII document `doc`
 * (its first `length` bytes) holds it from `at` on, else -1: segmentEnd of
 * its row, compared in place. A scanned entry's fields are printable ASCII,
 * and each non-empty action, actor id and email, target id and name is a
 * whole part of its free text (the scan leaves out free text past the
 * limit, which cuts it), so the segment's head is just the source and
 * outcome (unitIndex.ts's printableHead): the segment is `source outcome
 * action [part ...]`.
 */
export function scannedSegmentEnd(doc: Uint8Array, length: number, at: number, scan: EntryScan): number {
  const { bytes, spans, details } = scan;
  let p = same(doc, length, at, bytes, spans[2 * FIELD.source]!, spans[2 * FIELD.source + 1]!);
  if (p < 0 || p >= length || doc[p] !== 0x20) return -1;
  p = same(doc, length, p + 1, bytes, spans[2 * FIELD.outcome]!, spans[2 * FIELD.outcome + 1]!);
  if (p < 0 || p >= length || doc[p] !== 0x20) return -1;
  p = same(doc, length, p + 1, bytes, spans[2 * FIELD.action]!, spans[2 * FIELD.action + 1]!);
  for (let k = 0; k < FREE_TEXT_FIELDS.length && p >= 0; k++) {
    const f = FREE_TEXT_FIELDS[k]!;
    const s = spans[2 * f]!;
    const e = spans[2 * f + 1]!;
    if (e > s) p = p < length && doc[p] === 0x20 ? same(doc, length, p + 1, bytes, s, e) : -1;
  }
  for (let k = 0; k < scan.detailCount && p >= 0; k++) {
    p = p < length && doc[p] === 0x20 ? same(doc, length, p + 1, bytes, details[2 * k]!, details[2 * k + 1]!) : -1;
  }
  return p;
}

/** Where `doc` (its first `length` bytes) from `at` on holds `bytes[s, e)` up to, or -1. */
function same(doc: Uint8Array, length: number, at: number, bytes: Uint8Array, s: number, e: number): number {
  if (at + (e - s) > length) return -1;
  for (let k = s; k < e; k++, at++) if (doc[at] !== bytes[k]) return -1;
  return at;
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
