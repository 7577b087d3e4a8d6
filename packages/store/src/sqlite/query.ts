import type Database from 'better-sqlite3';
import type { QueryFilter } from '../driver.js';
import { actionPattern } from '../filter.js';
import { queryTerms } from '../text.js';
import { decodeOffsets, type IndexField } from './batchIndex.js';

const PAGE = 256;
/** Indexes per yield: the first slice is about a console page, later ones grow. */
const FIRST_CHUNK = 64;
const MAX_CHUNK = 4096;
type Row = Record<string, unknown>;

/** Statements of the batch index, prepared once per connection. */
export interface Queries {
  postingPage: Database.Statement;
  posting: Database.Statement;
  prefixPostings: Database.Statement;
  textPage: Database.Statement;
  textHas: Database.Statement;
  batchPage: Database.Statement;
  batch: Database.Statement;
}

/** Prepares the statements of the batch index. */
export function prepareQueries(db: Database.Database): Queries {
  return {
    postingPage: db.prepare('SELECT first, offsets FROM postings WHERE field = ? AND value = ? AND first < ? ORDER BY first DESC LIMIT ?'),
    posting: db.prepare('SELECT offsets FROM postings WHERE field = ? AND value = ? AND first = ?').pluck(),
    prefixPostings: db.prepare('SELECT offsets FROM postings WHERE field = ? AND value >= ? AND value < ? AND first = ?').pluck(),
    textPage: db.prepare('SELECT rowid FROM batch_text WHERE batch_text MATCH ? AND rowid < ? ORDER BY rowid DESC LIMIT ?').pluck(),
    textHas: db.prepare('SELECT 1 FROM batch_text WHERE batch_text MATCH ? AND rowid = ?').pluck(),
    batchPage: db.prepare('SELECT first FROM batches WHERE first < ? AND max_time >= ? AND min_time < ? ORDER BY first DESC LIMIT ?').pluck(),
    batch: db.prepare('SELECT last, min_time, max_time FROM batches WHERE first = ?'),
  };
}


/** The upper bound of a prefix range: the prefix with its last code unit incremented. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/**
 * Candidate indexes, newest first, a batch at a time. One condition drives
 * the walk (a posting list, else the full-text matches, else the batches
 * themselves, newest first); the others are checked per batch with primary
 * key lookups.
 */
export function* candidates(q: Queries, filter: QueryFilter): Generator<number[]> {
  const equal: [IndexField, string][] = [];
  if (filter.target !== undefined) equal.push(['target', filter.target]);
  if (filter.actor !== undefined) equal.push(['actor', filter.actor]);
  const action = filter.action === undefined ? undefined : actionPattern(filter.action);
  if (action && 'exact' in action) equal.push(['action', action.exact]);
  if (filter.source !== undefined) equal.push(['source', filter.source]);
  if (filter.outcome !== undefined) equal.push(['outcome', filter.outcome]);
  const prefix = action && 'prefix' in action && action.prefix !== '' ? action.prefix : undefined;
  const words = [...new Set((filter.text === undefined ? [] : queryTerms(filter.text)).flat())];
  const match = words.length > 0 ? words.map((w) => `"${w}"`).join(' ') : undefined;
  const since = filter.since ?? Number.MIN_SAFE_INTEGER;
  const until = filter.until ?? Number.MAX_SAFE_INTEGER;
  const before = filter.before ?? Number.MAX_SAFE_INTEGER;

  /** Applies every condition but the driving one to a batch; the surviving offsets. */
  const refine = (first: number, offsets: number[] | undefined, skip: number): number[] | undefined => {
    const batch = q.batch.get(first) as Row | undefined;
    if (!batch || (batch.max_time as number) < since || (batch.min_time as number) >= until) return undefined;
    let keep = offsets ?? Array.from({ length: (batch.last as number) - first + 1 }, (_, i) => i);
    for (let i = 0; i < equal.length; i++) {
      if (i === skip) continue;
      const bytes = q.posting.get(equal[i]![0], equal[i]![1], first) as Uint8Array | undefined;
      if (!bytes) return undefined;
      const set = new Set(decodeOffsets(bytes));
      keep = keep.filter((o) => set.has(o));
    }
    if (prefix !== undefined) {
      const set = new Set((q.prefixPostings.all('action', prefix, prefixEnd(prefix), first) as Uint8Array[]).flatMap(decodeOffsets));
      keep = keep.filter((o) => set.has(o));
    }
    if (match !== undefined && skip !== -2 && !q.textHas.get(match, first)) return undefined;
    return keep;
  };
  const emit = (first: number, offsets: number[] | undefined): number[] =>
    (offsets ?? []).map((o) => first + o).filter((i) => i < before).reverse();

  // A batch holds up to thousands of entries: hand its survivors out in
  // growing slices, so that a first page reads about a page, not the batch.
  let chunk = FIRST_CHUNK;
  let cursor = before;
  for (;;) {
    let page: { first: number; offsets?: number[] }[];
    let skip = -1;
    if (equal.length > 0) {
      skip = 0;
      page = (q.postingPage.all(equal[0]![0], equal[0]![1], cursor, PAGE) as Row[]).map((r) => ({
        first: r.first as number,
        offsets: decodeOffsets(r.offsets as Uint8Array),
      }));
    } else if (match !== undefined) {
      skip = -2;
      page = (q.textPage.all(match, cursor, PAGE) as number[]).map((first) => ({ first }));
    } else {
      page = (q.batchPage.all(cursor, since, until, PAGE) as number[]).map((first) => ({ first }));
    }
    for (const { first, offsets } of page) {
      const kept = refine(first, offsets, skip);
      if (kept && kept.length > 0) {
        const out = emit(first, kept);
        for (let k = 0; k < out.length; ) {
          const slice = out.slice(k, k + chunk);
          k += slice.length;
          chunk = Math.min(chunk * 2, MAX_CHUNK);
          yield slice;
        }
      }
    }
    if (page.length < PAGE) return;
    cursor = page[page.length - 1]!.first;
  }
}
