/**
 * Where verification reads a chunk from (verifyChunk.ts). A SQLite store is
 * read directly over a connection of verification's own, in any order (the
 * calling thread and a worker each take chunks); any other driver through
 * the LogDriver interface, one chunk after another.
 */
import Database from 'better-sqlite3';
import { toHex } from '@stele/log';
import type { IndexChecker, IndexRow, LogDriver } from './driver.js';
import { rowOfScan, type EntryScan } from './entryScan.js';
import type { ReaderSource } from './readerSource.js';
import { integrityProblem, tailProblem, UnitComparer, unitReader, type UnitProblem } from './sqlite/indexChecker.js';
import type { ChunkIndexCheck, ChunkSource, PackedEntry } from './verifyChunk.js';

/** A SQLite store read over a connection of its own (closed by `close`). */
export function sqliteChunkSource(source: ReaderSource): ChunkSource {
  // Not read-only when the store is not: SQLite checks FTS5 through a statement that needs it either way.
  const db = new Database(source.path, { readonly: source.readonly, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  // One string a row, of text and hex, not blobs: a Buffer per value, or a row of four values, costs more than
  // reading it. verifyChunk.ts's PackedEntry says what it holds and where its cut is trusted.
  const entries = db
    .prepare(
      `SELECT iif(typeof(id) = 'text', octet_length(id) || ' ' || id || lower(hex(leaf_hash)) || ' ' || CAST(data AS TEXT), NULL)
       FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx`,
    )
    .pluck();
  const indexes = db.prepare('SELECT idx FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx').pluck();
  const exact = db.prepare('SELECT id, leaf_hash, data FROM entries WHERE idx = ?').raw();
  const hashes = db.prepare('SELECT idx, lower(hex(hash)) FROM tree_hashes WHERE level = ? AND idx >= ? AND idx < ?').raw();
  const reader = unitReader(db);
  return {
    entries: (start, end) => entries.all(start, end) as PackedEntry[],
    missing: (start, end) => firstMissing(start, end, indexes.all(start, end) as number[]),
    exact(index) {
      const row = exact.get(index) as [unknown, unknown, unknown] | undefined;
      if (!row) return undefined;
      return { id: row[0], leafHex: hexOf(row[1]), bytes: bytesOf(row[2]) };
    },
    hashes: (level, from, to) => new Map(hashes.all(level, from, to) as [number, string][]),
    units: (start, end) => new UnitComparer(reader, start, end),
    // The walk read its size first: entries past it were appended since, with their units.
    tail: (covered, size) => tailProblem(reader, covered, size, true),
    integrity: () => integrityProblem(reader),
    close: () => db.close(),
  };
}

/** The query index of a chunk through a driver's checker: the chunk's rows at once, in order. */
class DriverUnits implements ChunkIndexCheck {
  readonly #rows: IndexRow[] = [];
  readonly #checker: IndexChecker;
  readonly #start: number;

  constructor(checker: IndexChecker, start: number) {
    this.#checker = checker;
    this.#start = start;
  }

  add(row: IndexRow): undefined {
    this.#rows.push(row);
  }

  scanned(scan: EntryScan): undefined {
    this.#rows.push(rowOfScan(scan));
  }

  async end(): Promise<{ problem?: UnitProblem; covered: number }> {
    const start = this.#start;
    const rows = this.#rows;
    const problem = await this.#checker.check(start, rows);
    // Fed in order, the checker finds a problem with the rows it has: reported as found with them.
    return problem ? { problem: { ...problem, needs: start + rows.length }, covered: start } : { covered: start + rows.length };
  }
}

/** The first index in [start, end) not among `present` (ascending). */
function firstMissing(start: number, end: number, present: readonly number[]): number {
  let index = start;
  while (index < end && present[index - start] === index) index++;
  return index;
}

/** Stored values as bytes, whatever type a damaged store gives them. */
function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return new TextEncoder().encode(value === null || value === undefined ? '' : String(value));
}

const hexOf = (value: unknown): string => toHex(bytesOf(value));

/** Any driver, through its verification methods; chunks must come in index order. */
export function driverChunkSource(driver: LogDriver): ChunkSource {
  // Made first: a store without its index tables fails here, as ever.
  const checker = driver.indexChecker();
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const text = (bytes: Uint8Array): string | undefined => {
    try {
      return decoder.decode(bytes);
    } catch {
      return undefined;
    }
  };
  return {
    async entries(start, end) {
      return (await driver.scan(start, end)).map((e): PackedEntry => {
        const data = text(e.bytes);
        return typeof e.id === 'string' && data !== undefined ? `${Buffer.byteLength(e.id)} ${e.id}${toHex(e.leafHash)} ${data}` : null;
      });
    },
    async missing(start, end) {
      return firstMissing(start, end, (await driver.scan(start, end)).map((e) => e.index));
    },
    async exact(index) {
      const [e] = await driver.scan(index, index + 1);
      return e && { id: e.id, leafHex: toHex(e.leafHash), bytes: e.bytes };
    },
    async hashes(level, from, to) {
      return new Map([...(await driver.scanHashes(level, from, to))].map(([i, h]) => [i, toHex(h)]));
    },
    units: (start) => new DriverUnits(checker, start),
    // The driver's finish checks both.
    tail: (_covered, size) => checker.finish(size),
    integrity: () => undefined,
    close: () => undefined,
  };
}
