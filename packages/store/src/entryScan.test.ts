import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { canonicalize, parseTime } from '@stele/log';
import type { IndexRow } from './driver.js';
import { rowOfScan, scanEntry } from './entryScan.js';
import { scannedSegmentEnd } from './sqlite/indexChecker.js';
import { segmentEnd, segmentOf } from './sqlite/unitIndex.js';
import { EntryFinding, isScan, readEntry, readParsedEntry } from './verifyEntry.js';

/** A read as a comparable value: the finding, or the row (a scan's built). */
function outcome(read: ReturnType<typeof readEntry>): { code: string; message: string } | { row: IndexRow } {
  if (read instanceof EntryFinding) return { code: read.code, message: read.message };
  return { row: isScan(read) ? rowOfScan(read) : read };
}

/** Reads `text` both ways and requires the same finding or row; true when the scan decided. */
function same(index: number, id: unknown, text: string): boolean {
  const read = readEntry(index, id, text);
  const scanned = isScan(read);
  const got = outcome(read);
  expect(got).toStrictEqual(outcome(readParsedEntry(index, id, text)));
  return scanned;
}

// Strings: mostly what the scan takes (printable ASCII), sometimes what it leaves to JSON.parse.
const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).filter((c) => c !== 0x22 && c !== 0x5c).map((c) => String.fromCharCode(c)), maxLength: 12 });
const awkward = fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u007f', 'é', '😀', '\u2028', '\ud800', ' ', 'a', '1'), maxLength: 4 });
const text = fc.oneof({ weight: 8, arbitrary: printable }, { weight: 1, arbitrary: awkward }, { weight: 1, arbitrary: fc.constant('') });
/** Any JSON value, seldom: where a string is expected. */
const stranger = fc.oneof(fc.constant(null), fc.integer(), fc.boolean(), fc.constant(0), fc.constant({}), fc.constant([]), fc.double({ noNaN: true, noDefaultInfinity: true }));
const field = fc.oneof({ weight: 10, arbitrary: text }, { weight: 1, arbitrary: stranger });

const ms = fc.integer({ min: Date.UTC(-1, 0, 1) + 1, max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) });
/** Times: the record's format mostly, other RFC 3339 forms, out-of-range and broken ones. */
const time = fc.oneof(
  { weight: 6, arbitrary: ms.map((m) => new Date(m).toISOString()).filter((t) => t.length === 24) },
  { weight: 1, arbitrary: fc.constantFrom('2026-01-01T00:00:00Z', '2026-01-01t00:00:00.5+01:00', '0050-06-01T00:00:00.000Z', '2026-02-29T00:00:00.000Z', '2024-02-29T00:00:00.000Z', '2026-13-01T00:00:00.000Z', '2026-01-01T24:00:00.000Z', '2026-01-01T00:00:00.000z', '2026-01-01T00:00:00.00aZ', '') },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 999 })).map(([y, mo, d, m]) => `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T12:34:56.${String(m).padStart(3, '0')}Z`) },
  { weight: 1, arbitrary: stranger },
);

/** Keys for `details`: words, integer-like keys (for-in lists those first), and awkward ones. */
const key = fc.oneof({ weight: 6, arbitrary: printable }, { weight: 1, arbitrary: fc.constantFrom('0', '1', '10', '2', '01', '4294967295', '__proto__', 'é', 'a"b') });
const details: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, text, fc.integer(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
})).value;

/** Records of the given shapes: `str` where the log writes strings, `when` for times, `inner` for details. */
function records(str: fc.Arbitrary<unknown>, when: fc.Arbitrary<unknown>, inner: fc.Arbitrary<unknown>, bend: number) {
  return fc.record(
    {
      v: fc.constant(1),
      id: str,
      index: fc.oneof({ weight: 8, arbitrary: fc.nat() }, { weight: bend, arbitrary: fc.oneof(fc.integer(), fc.constant(2 ** 53), fc.double(), fc.constant('1')) }),
      time: when,
      received: when,
      source: str,
      action: str,
      actor: fc.oneof(
        { weight: 10, arbitrary: fc.record({ id: str, email: str, name: str, verified: fc.boolean(), groups: fc.array(text, { maxLength: 2 }) }, { requiredKeys: ['verified'] }) },
        { weight: bend, arbitrary: stranger },
      ),
      target: fc.oneof({ weight: 6, arbitrary: fc.record({ type: str, id: str, name: str }, { requiredKeys: [] }) }, { weight: bend, arbitrary: field }),
      outcome: fc.oneof(fc.constantFrom('success', 'failure', 'unknown'), str),
      reason: str,
      host: str,
      device: fc.record({ id: text, seq: fc.nat() }),
      details: fc.oneof({ weight: 6, arbitrary: fc.dictionary(key, inner, { maxKeys: 6 }) }, { weight: bend, arbitrary: inner }),
      submitter: fc.record({ type: text, id: text }),
      zzz: inner,
    },
    { requiredKeys: ['v', 'id', 'index', 'time', 'received', 'source', 'action', 'actor', 'outcome'] },
  );
}

/** Details the scan takes: printable strings, integers, booleans and null under word keys. */
const plainDetails: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, printable, fc.integer(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(printable.filter((k) => !/^\d+$/.test(k)), tie('value'), { maxKeys: 5 }),
})).value;

/** Records as the log writes them, half of them bent: fields of other types, missing, or extra. */
const record = fc.oneof(
  records(printable, ms.map((m) => new Date(m).toISOString()), plainDetails, 0),
  records(field, time, details, 1),
);

/** A value's canonical text; JSON.stringify's where it has none (a lone surrogate). */
function canonical(value: unknown): string {
  try {
    return canonicalize(value as Parameters<typeof canonicalize>[0]);
  } catch {
    return JSON.stringify(value);
  }
}

/** The index and id a record is stored under: mostly its own. */
function storedAs(value: Record<string, unknown>, how: number): [number, unknown] {
  const index = typeof value.index === 'number' && how % 7 !== 1 ? value.index : 7;
  const id = how % 5 === 1 ? `${String(value.id)}x` : how % 11 === 1 ? 5 : value.id;
  return [index, id];
}

describe('scanEntry', () => {
  test('reads records as JSON.parse, canonicalize and indexRowOf do', () => {
    let scanned = 0;
    fc.assert(
      fc.property(record, fc.nat(), (value, how) => {
        const [index, id] = storedAs(value, how);
        if (same(index, id, canonical(value))) scanned++;
      }),
      { numRuns: 3000 },
    );
    // Not vacuous: the plain records are scanned.
    expect(scanned).toBeGreaterThan(300);
  });

  test('reads text that is not canonical as they do', () => {
    fc.assert(
      fc.property(record, fc.nat(3), (value, how) => {
        const text = canonical(value);
        const [index, id] = storedAs(value, 0);
        const texts = [JSON.stringify(value), JSON.stringify(value, null, 1), text.replace(/:(\d+)([,}])/, ':$1.0$2'), text.replace(/,"/, ', "')];
        same(index, id, texts[how]!);
      }),
      { numRuns: 2000 },
    );
  });

  test('reads any JSON as they do', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.boolean(), (value, exact) => {
        same(0, 'x', exact ? canonicalize(value) : JSON.stringify(value));
      }),
      { numRuns: 2000 },
    );
  });

  test('reads edited and hostile bytes as they do', () => {
    const by = fc.constantFrom('', ' ', '0', '1', '9', '-', '.', 'e', '"', '\\', 'u', ',', ':', '{', '}', '[', ']', 'a', 'A', 'é', '\u0000', '\n', '\ud800', 'null', 'true', '""', '{}', '"x":1,', '\ufffd');
    const edits = fc.array(fc.tuple(fc.nat(), by, fc.nat(3)), { minLength: 1, maxLength: 4 });
    let scanned = 0;
    fc.assert(
      fc.property(record, edits, (value, changes) => {
        let text = canonical(value);
        for (const [at, insert, cut] of changes) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + insert + text.slice(i + cut);
        }
        const [index, id] = storedAs(value, 0);
        if (same(index, id, text)) scanned++;
      }),
      { numRuns: 5000 },
    );
    expect(scanned).toBeGreaterThan(50);
  });

  const plain = {
    v: 1,
    id: 'e-1',
    index: 3,
    time: '2026-01-01T10:00:00.123Z',
    received: '2026-01-01T10:00:01.000Z',
    source: 'emacs',
    action: 'file.save',
    actor: { email: 'alice@example.com', id: 'alice', name: 'Alice', verified: false },
    target: { id: '/a/b.el', name: 'b.el', type: 'file' },
    outcome: 'success',
    host: 'laptop',
    details: { mode: 'emacs-lisp-mode', vc: { backend: 'Git', branch: 'main' } },
  };

  test.each<[string, Record<string, unknown>, boolean]>([
    ['a plain record', {}, true],
    ['keys near the fields\' keys (other members)', { actio: 'x', actions: 'y', Source: 5, 'time ': 'z', receive: '', receivedx: 1, target_: { id: 'no' }, ' id': 'no' }, true],
    ['near keys in the actor and target', { actor: { id: 'a', ids: 'no', Name: 'no', emai: 'no', verified: true }, target: { type: 't', typ: 'no', names: 'no' } }, true],
    ['null optional fields', { host: null, reason: null, target: null, actor: { id: null, email: 'a@b', name: null, verified: true } }, true],
    ['empty strings', { host: '', action: '', source: '', actor: { id: '', email: '', verified: true }, target: { type: '', id: '', name: '' } }, true],
    ['details an empty string (falsy: left out)', { details: '' }, true],
    ['details a string', { details: 'words' }, true],
    ['details falsy and truthy non-strings', { details: 0 }, true],
    ['empty strings inside details (each adds a space)', { details: { a: '', b: ['', 'x'] } }, true],
    ['details five levels deep (the fifth not free text)', { details: { a: { b: { c: { d: 'in', e: { f: 'out' } } } } } }, true],
    ['details with integer-like keys (for-in order)', { details: { 10: 'ten', 9: 'nine', a: 'a' } }, false],
    ['integer-like keys beyond collected depth', { details: { a: { b: { c: { d: { 2: 'x', 1: 'y' } } } } } }, true],
    ['a target that is not an object', { target: 'file' }, false],
    ['an actor that is an array', { actor: [] }, false],
    ['a missing outcome', { outcome: undefined }, false],
    ['a number as the host', { host: 5 }, false],
    ['a time with an offset (parseTime reads it)', { time: '2026-01-01T11:00:00+01:00' }, true],
    ['an impossible date', { time: '2026-02-30T00:00:00.000Z' }, false],
    ['an index of 16 digits', { index: 1234567890123456 }, false],
    ['a fraction in details', { details: { x: 1.5 } }, false],
    ['an escaped character', { reason: 'a "quoted" word' }, false],
    ['non-ASCII', { actor: { name: 'Zoë', id: 'zoe', verified: false } }, false],
  ])('%s (scanned: %s)', (_, change, scanned) => {
    const value = { ...plain, ...change };
    for (const k of Object.keys(change)) if (change[k] === undefined) delete (value as Record<string, unknown>)[k];
    expect(same(3, 'e-1', canonicalize(value))).toBe(scanned);
  });

  test('the free text at the limit is scanned, past it left to indexRowOf (which cuts it)', () => {
    const head = 'file.save Alice alice@example.com alice /a/b.el b.el laptop'.length;
    const fill = (n: number) => ({ ...plain, details: { x: 'y'.repeat(n) } });
    expect(same(3, 'e-1', canonicalize(fill(4096 - head - 1)))).toBe(true);
    expect(same(3, 'e-1', canonicalize(fill(4096 - head)))).toBe(false);
  });

  test('texts that are not JSON, or not records', () => {
    for (const t of ['', '{', '{}', '[]', 'null', '{"actor":{}}', '{"actor":{}} ', ' {"actor":{}}', `${canonicalize(plain)}x`, canonicalize(plain).slice(0, -1)]) same(3, 'e-1', t);
    expect(readEntry(3, 'e-1', undefined)).toStrictEqual(readParsedEntry(3, 'e-1', undefined));
  });

  test('times in runs, sharing all but their milliseconds, read as parseTime reads them', () => {
    const prefix = fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 24 }), fc.constantFrom('T', 't', ' '));
    const tail = fc.oneof(fc.integer({ min: 0, max: 999 }).map((m) => `${String(m).padStart(3, '0')}Z`), fc.constantFrom('00aZ', '000z', '0000', '5Z'));
    fc.assert(
      fc.property(prefix, fc.array(tail, { minLength: 1, maxLength: 6 }), ([y, mo, d, h, sep], tails) => {
        for (const end of tails) {
          const t = `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}${sep}${String(h).padStart(2, '0')}:59:59.${end}`;
          let expected: number | undefined;
          try {
            expected = parseTime(t);
          } catch {
            expected = undefined;
          }
          const scan = scanEntry(canonicalize({ ...plain, time: t, received: t }));
          expect(scan?.time).toBe(expected);
          expect(scan?.received).toBe(expected);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('scannedSegmentEnd', () => {
  test('finds a scanned entry in a unit document as segmentEnd finds its row', () => {
    const edits = fc.array(fc.tuple(fc.nat(), fc.constantFrom('', ' ', 'a', 'A', '\n', '\u007f', 'x y')), { maxLength: 2 });
    let compared = 0;
    const ascii = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 5 });
    fc.assert(
      fc.property(record, ascii, ascii, edits, (value, before, after, changes) => {
        const scan = scanEntry(canonical(value));
        if (!scan) return;
        compared++;
        const row = rowOfScan(scan);
        let segment = segmentOf(row);
        for (const [at, by] of changes) {
          const i = at % (segment.length + 1);
          segment = segment.slice(0, i) + by + segment.slice(i + (at % 2));
        }
        const doc = before + segment + after;
        const bytes = Buffer.from(doc);
        // The comparer takes ASCII documents as bytes (and compares any other with the row).
        if (bytes.length !== doc.length) return;
        for (const at of [before.length, 0, doc.length]) expect(scannedSegmentEnd(bytes, doc.length, at, scan)).toBe(segmentEnd(doc, at, row));
      }),
      { numRuns: 3000 },
    );
    expect(compared).toBeGreaterThan(300);
  });
});
