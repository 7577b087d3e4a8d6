import type Database from 'better-sqlite3';

/**
 * A check FTS5's own integrity check leaves out: its seek index. FTS5 keeps
 * each segment's terms in leaf pages and, in `<table>_idx`, a row for every
 * page a term starts on; a query looks a term up there and reads only that
 * page. FTS5's check compares what the pages hold with the documents and
 * each row that is present with its page, but not whether rows are missing:
 * without a segment's rows after its first page, every term on those pages
 * goes unfound while the check passes. This reads the segments from FTS5's
 * structure record and each page's header (the on-disk format of
 * sqlite.org/src/file/ext/fts5/fts5_index.c) and requires the rows.
 *
 * Only a store edited outside SQLite's defensive mode can lack them.
 */

/** A segment: its id and pages. */
interface Segment {
  id: number;
  first: number;
  last: number;
}

/** The rowid of a leaf page: segment id, then 1 bit (doclist index), 5 bits (height) and 31 bits (page). */
const leafRowid = (segment: number, page: number): number => segment * 2 ** 37 + page;
/** The rowid of the structure record. */
const STRUCTURE = 10;
/** What starts a structure record of version 2 (with tombstones), after the 4-byte cookie. */
const V2 = [0xff, 0x00, 0x00, 0x01];

/** The problem of the seek index of an FTS5 table, or undefined when every page a term starts on has its row. */
export function seekIndexProblem(db: Database.Database, table: string): string | undefined {
  const record = db.prepare(`SELECT block FROM "${table}_data" WHERE id = ?`).pluck().get(STRUCTURE);
  if (!(record instanceof Uint8Array)) return 'the structure record is missing';
  const segments = parseStructure(record);
  if (segments === undefined) return 'the structure record does not parse';
  const rows = new Set((db.prepare(`SELECT segid, pgno FROM "${table}_idx"`).raw().all() as [number, number][]).map(([s, p]) => `${s}:${Math.floor(p / 2)}`));
  const pages = db.prepare(`SELECT id, substr(block, 1, 4), length(block) FROM "${table}_data" WHERE id > ? AND id <= ? ORDER BY id`).raw();
  for (const s of segments) {
    // The first page needs no row: a lookup that finds none starts there.
    for (const [rowid, head, length] of pages.all(leafRowid(s.id, s.first), leafRowid(s.id, s.last)) as [number, Uint8Array, number][]) {
      const page = rowid - leafRowid(s.id, 0);
      // The page footer (one entry per term that starts on the page) begins at the offset in bytes 2 and 3.
      const footer = head.length === 4 ? (head[2]! << 8) | head[3]! : length;
      if (footer < length && !rows.has(`${s.id}:${page}`)) return `no row for page ${page} of segment ${s.id}, whose terms no query finds`;
    }
  }
  return undefined;
}

/** The segments of a structure record, or undefined when it does not parse. */
function parseStructure(b: Uint8Array): Segment[] | undefined {
  let at = 4;
  const v2 = V2.every((byte, i) => b[4 + i] === byte);
  if (v2) at += 4;
  const read = (): number => {
    // SQLite's varint: 7 bits a byte, high bit set on all but the last, at most 9 bytes (the 9th whole).
    let value = 0;
    for (let i = 0; i < 9; i++) {
      const byte = b[at++];
      if (byte === undefined) throw new RangeError('truncated');
      if (i === 8) return value * 256 + byte;
      value = value * 128 + (byte & 0x7f);
      if (byte < 0x80) return value;
    }
    return value;
  };
  try {
    const levels = read();
    read(); // segments, all told
    read(); // write counter
    const segments: Segment[] = [];
    for (let l = 0; l < levels; l++) {
      read(); // segments being merged
      const count = read();
      for (let s = 0; s < count; s++) {
        const segment = { id: read(), first: read(), last: read() };
        if (v2) for (let k = 0; k < 5; k++) read(); // origins, tombstone pages and entries, entries
        segments.push(segment);
      }
    }
    return segments;
  } catch {
    return undefined;
  }
}
