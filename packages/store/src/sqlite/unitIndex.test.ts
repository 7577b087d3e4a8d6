import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import type { IndexRow, QueryFilter } from '../driver.js';
import { matchesTerms, queryTerms, tokenize } from '../text.js';
import { INDEX_SCHEMA } from './schema.js';
import { UNIT, segmentEnd, segmentOf, unitMatch, unitsOf } from './unitIndex.js';

// The real FTS5 table of the driver, in memory.
const db = new Database(':memory:');
db.exec(INDEX_SCHEMA);
db.exec("CREATE VIRTUAL TABLE vocab USING fts5vocab('unit_text', 'row')");
afterAll(() => db.close());

const insert = db.prepare('INSERT INTO unit_text (rowid, doc) VALUES (?, ?)');
const clear = db.prepare('DELETE FROM unit_text');
const terms = db.prepare('SELECT term FROM vocab').pluck();
const matches = db.prepare('SELECT rowid FROM unit_text WHERE unit_text MATCH ?').pluck();

/** Indexes one unit of these rows; its FTS5 terms. */
function index(rows: IndexRow[]): Set<string> {
  clear.run();
  const [unit] = unitsOf(0, rows);
  insert.run(0, unit!.doc);
  return new Set(terms.all() as string[]);
}

const found = (filter: QueryFilter): boolean => {
  const match = unitMatch(filter);
  return match === undefined || (matches.all(match) as number[]).includes(0);
};

// Characters where tokenizers part ways: separators of one that are letters of another,
// case mappings that change length or depend on context, controls, surrogates.
const tricky = ['a', 'B', 'z', '0', '9', ' ', '.', '-', '_', '@', '/', ':', '\n', '\t', '\r', '\u0000', '\u007f', 'é', 'E\u0301', 'ß', 'Σ', 'σ', 'ς', 'İ', 'ı', '\u212a', 'ǅ', 'ﬁ', '\u00a0', '\u2028', '\ue000', '\uf8ff', '\u{10ffff}', '😀', '\ud800', '\udc00', '中', '٣', 'Ⅷ', '\u0307', '\u200d', '\ufeff'];
const text = fc.string({ unit: fc.oneof(fc.constantFrom(...tricky), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' })), maxLength: 24 });
const value = fc.oneof(fc.constantFrom('alice@example.com', 'file.save', 'package.install', 'ΟΔΟΣ.x', 'İstanbul', 'k8s.exec'), text);
const row: fc.Arbitrary<IndexRow> = fc.record({
  time: fc.integer({ min: 0, max: 1e12 }),
  received: fc.integer({ min: 0, max: 1e12 }),
  source: value,
  action: value,
  actorId: fc.option(value),
  actorEmail: fc.option(value),
  targetType: fc.option(value),
  targetId: fc.option(value),
  targetName: fc.option(value),
  outcome: fc.constantFrom('success', 'failure', 'unknown'),
  text,
});

describe('the unit documents', () => {
  test("hold exactly text.ts's tokens of their entries' fields and text, as FTS5 tokenizes them", () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 5 }), (rows) => {
        const want = new Set<string>();
        for (const r of rows) {
          for (const part of [r.action, r.source, r.outcome, r.actorId, r.actorEmail, r.targetId, r.targetName, r.text]) {
            for (const t of tokenize(part ?? '')) want.add(t);
          }
        }
        expect([...index(rows)].sort()).toEqual([...want].sort());
      }),
      { numRuns: 500 },
    );
  });

  test('keep one newline-free segment per entry, in order', () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: UNIT }), (rows) => {
        const units = unitsOf(5, rows);
        const segments = units.flatMap((u) => u.doc.split('\n'));
        expect(segments).toEqual(rows.map(segmentOf));
        expect(units.map((u) => [u.first, u.last])).toEqual(
          rows.length <= UNIT - 5 ? [[5, 4 + rows.length]] : [[5, UNIT - 1], [UNIT, 4 + rows.length]],
        );
        // Verification's check in place agrees with the segments, and not with another entry's.
        const doc = segments.join('\n');
        let at = 0;
        for (const [i, r] of rows.entries()) {
          expect(segmentEnd(doc, at, r)).toBe(at + segments[i]!.length);
          const other = rows[(i + 1) % rows.length]!;
          if (segmentOf(other) !== segments[i] && !doc.startsWith(segmentOf(other), at)) expect(segmentEnd(doc, at, other)).toBe(-1);
          at += segments[i]!.length + 1;
        }
      }),
    );
  });

  test('store printable ASCII as it is, without the fields the free text holds as words', () => {
    const r: IndexRow = { time: 1, received: 1, source: 'git', action: 'vc.commit', actorId: 'bob', actorEmail: null, targetType: null, targetId: 'a/b.git', targetName: 'b.git', outcome: 'success', text: 'vc.commit bob a/b.git Fix: the #42 bug!' };
    expect(segmentOf(r)).toBe('git success vc.commit bob a/b.git Fix: the #42 bug!');
    // 'bob' only inside 'bobby', 'b.git' only after a letter: kept.
    expect(segmentOf({ ...r, text: 'vc.commit bobby ab.git' })).toBe('git success bob a/b.git b.git vc.commit bobby ab.git');
    expect(segmentOf({ ...r, text: 'vc.commit éb.git ΣbobΣ a/b.git' })).toBe('git success vc commit bob a b git b git vc commit éb git σbobς a b git');
    expect(segmentOf({ ...r, text: 'caf\u00e9\tBAR' })).toBe('git success vc commit bob a b git b git café bar');
    expect(segmentOf({ ...r, text: 'foo\ue000bar' })).toBe('git success vc commit bob a b git b git foo bar');
  });
});

describe('a query', () => {
  test("finds the unit of every entry that matches a filter's fields", () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 3 }), fc.nat(), fc.nat(40), (rows, pick, cut) => {
        index(rows);
        const r = rows[pick % rows.length]!;
        expect(found({ source: r.source, outcome: r.outcome, action: r.action, limit: 1 })).toBe(true);
        if (r.actorId !== null) expect(found({ actor: r.actorId, limit: 1 })).toBe(true);
        if (r.actorEmail !== null) expect(found({ actor: r.actorEmail, limit: 1 })).toBe(true);
        if (r.targetId !== null) expect(found({ target: r.targetId, limit: 1 })).toBe(true);
        if (r.targetName !== null) expect(found({ target: r.targetName, limit: 1 })).toBe(true);
        // Any prefix of the action, cut anywhere (even inside a surrogate pair or before a final sigma).
        expect(found({ action: `${r.action.slice(0, cut)}*`, limit: 1 })).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  test('finds the unit of every entry whose text matches, as the log service decides', () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 3 }), fc.nat(), fc.nat(), fc.nat(), (rows, pick, from, length) => {
        index(rows);
        const tokens = tokenize(rows[pick % rows.length]!.text);
        if (tokens.length === 0) return;
        // A phrase of the entry's own tokens, and the entry's raw text as the query (when the service says it matches).
        const at = from % tokens.length;
        const phrase = tokens.slice(at, at + 1 + (length % 3)).join('-');
        expect(found({ text: phrase, limit: 1 })).toBe(true);
        const raw = rows[pick % rows.length]!.text;
        if (matchesTerms(tokens, queryTerms(raw))) expect(found({ text: raw, limit: 1 })).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  test('matches what each kind of term asks for', () => {
    expect(unitMatch({ limit: 1 })).toBeUndefined();
    expect(unitMatch({ text: ' .. ', outcome: '!', limit: 1 })).toBeUndefined();
    expect(unitMatch({ text: 'init.el Fix', actor: 'alice@example.com', limit: 1 })).toBe('"init" "el" "fix" "alice" "example" "com"');
    expect(unitMatch({ action: 'package.*', limit: 1 })).toBe('"package"');
    expect(unitMatch({ action: 'pack*', limit: 1 })).toBe('"pack"*');
    expect(unitMatch({ action: 'k8s.ex*', limit: 1 })).toBe('"k8s" "ex"*');
    // Non-ASCII tokens of a prefix may lower-case otherwise once the action goes on: left out.
    expect(unitMatch({ action: 'ΟΔΟΣ.*', limit: 1 })).toBeUndefined();
    expect(unitMatch({ action: 'ΟΔΟΣ.x', limit: 1 })).toBe('"οδοσ" "x"');
    // Half a surrogate pair may be the start of a letter that goes on the word.
    expect(unitMatch({ action: 'a\ud81a*', limit: 1 })).toBe('"a"*');
    expect(queryTerms('ΟΔΟΣ')).toEqual([['οδος']]);
  });
});
