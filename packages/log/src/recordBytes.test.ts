import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from './canonicalJson.js';
import { toRecord, validateEvent, type EventInput, type EventRecord, type StoreFields } from './event.js';
import { entryBytes, prepareEvent, recordBytes } from './recordBytes.js';

/** canonicalBytes' answer, or the code it throws: what recordBytes must match. */
function reference(record: unknown): Uint8Array | string {
  try {
    return canonicalBytes(record);
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

/** The entry of the event prepared, with the store's fields (a plain copy), or the code it throws. */
function actualOf(event: unknown, fields: StoreFields): Uint8Array | string {
  try {
    return Uint8Array.from(entryBytes(prepareEvent(event as EventInput), fields));
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

/** What prepareEvent + entryBytes must match: the canonical bytes of toRecord's record, or what either throws. */
function referenceOf(event: unknown, fields: StoreFields): Uint8Array | string {
  try {
    return reference(toRecord(event as EventInput, fields));
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

function actual(record: unknown): Uint8Array | string {
  try {
    // A plain copy: the views share chunks, and toEqual compares Uint8Arrays by content.
    return Uint8Array.from(recordBytes(record as EventRecord));
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

const store = { id: 'x', received: '2026-01-01T00:00:00.000Z', index: 7 };

/** Strings that take every path: plain ASCII, escapes, DEL, non-ASCII, pairs, lone surrogates. */
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', 'a"b', 'back\\slash', 'tab\there', 'new\nline', '\u0000\u001f', '\u007f', 'Zoë', '\u2028', '\ud83d\ude00', '\ud800', 'x\udfff'),
);
/** Mostly what validation accepts in a one-line field: any Unicode but controls, with quotes and backslashes. */
const line = fc.oneof(
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((s) => !/\p{Cc}/u.test(s)), weight: 8 },
  { arbitrary: fc.constantFrom('a"b', 'back\\slash', 'Zoë', '\u2028', '\ud83d\ude00', '\u007f'), weight: 2 },
  { arbitrary: text, weight: 1 },
);
/** Numbers JCS writes in every notation. */
const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, 0.1, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 2 ** 53, NaN, Infinity));
/** Details: unsorted and integer-like keys, "__proto__", any nesting. */
const details = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, text, number, fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fc.oneof(text, fc.constantFrom('10', '9', '0', '__proto__', 'a', 'B')), tie('value'), { maxKeys: 5 }),
})).object;

describe('recordBytes', () => {
  it('writes a validated event as canonicalBytes does', () => {
    const event = fc.record(
      {
        id: fc.stringMatching(/^[A-Za-z0-9._:@/+=-]{1,20}$/),
        time: fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString()),
        source: fc.constantFrom('emacs', 'git'),
        action: fc.constantFrom('file.save', 'vc.commit'),
        actor: fc.record({ id: line, email: fc.emailAddress(), name: line, groups: fc.array(line, { maxLength: 3 }), idp: line, verified: fc.boolean() }, { requiredKeys: ['email'] }),
        target: fc.record({ type: fc.constantFrom('file', 'AWS::S3::Bucket'), id: line, name: line }, { requiredKeys: ['type'] }),
        outcome: fc.constantFrom('success', 'failure', 'unknown'),
        reason: fc.oneof(line, fc.constantFrom('Fix\n\n\tSee #12.')),
        host: fc.domain(),
        device: fc.record({ id: fc.stringMatching(/^[a-z0-9-]{1,12}$/), seq: fc.integer({ min: 1 }), prev: fc.stringMatching(/^[0-9a-f]{64}$/) }, { requiredKeys: ['id', 'seq'] }),
        details,
      },
      { requiredKeys: ['source', 'action', 'actor'] },
    );
    const submitter = fc.option(fc.record({ type: fc.constantFrom('token', 'oidc'), id: fc.string({ maxLength: 20 }), name: fc.string({ maxLength: 20 }) }, { requiredKeys: ['type', 'id'] }), { nil: undefined });
    fc.assert(
      fc.property(event, submitter, (e, sub) => {
        const r = validateEvent(e);
        if (!r.ok) return;
        const fields = { ...store, id: r.event.id ?? 'x', submitter: sub };
        const record = toRecord(r.event, fields);
        expect(actual(record)).toEqual(reference(record));
        expect(actualOf(r.event, fields)).toEqual(reference(record));
        // Prepared once, sequenced again with other store fields (a retried append), other records written between.
        const prepared = prepareEvent(r.event);
        const again = { id: r.event.id ?? 'y', received: '2027-02-03T04:05:06.789Z', index: 123_456 };
        recordBytes(record);
        expect(Uint8Array.from(entryBytes(prepared, again))).toEqual(reference(toRecord(r.event, again)));
        expect(Uint8Array.from(entryBytes(prepared, fields))).toEqual(reference(record));
      }),
      { numRuns: 2000 },
    );
  });

  it('equals canonicalBytes on records that validation never made', () => {
    // Any member of any type, missing, unknown or undefined: recordBytes answers as canonicalBytes, or throws as it does.
    const any = fc.oneof(text, number, fc.boolean(), fc.constant(null), fc.constant(undefined), details, fc.array(text, { maxLength: 3 }));
    const record = fc.record(
      {
        v: fc.oneof(fc.constant(1), any),
        action: fc.oneof(text, any),
        actor: fc.oneof(fc.record({ email: text, groups: fc.array(text, { maxLength: 2 }), id: text, idp: text, name: text, verified: fc.boolean(), extra: any }, { requiredKeys: ['verified'] }), any),
        details: fc.oneof(details, any),
        device: fc.oneof(fc.record({ id: text, prev: text, seq: number }, { requiredKeys: ['id', 'seq'] }), any),
        host: text,
        id: text,
        index: number,
        outcome: text,
        reason: text,
        received: text,
        source: text,
        submitter: fc.oneof(fc.record({ id: text, name: text, type: text }, { requiredKeys: ['id', 'type'] }), any),
        target: fc.oneof(fc.record({ id: text, name: text, type: text }, { requiredKeys: ['type'] }), any),
        time: text,
        unknown: any,
      },
      { requiredKeys: ['v', 'action', 'actor', 'id', 'index', 'outcome', 'received', 'source', 'time'] },
    );
    fc.assert(
      fc.property(record, (r) => {
        expect(actual(r)).toEqual(reference(r));
      }),
      { numRuns: 3000 },
    );
  });

  it('writes an event with the store fields as toRecord + canonicalBytes do, for events validation never made', () => {
    // Any member of any type, missing, unknown or undefined; store fields that toRecord may refuse.
    const any = fc.oneof(text, number, fc.boolean(), fc.constant(null), fc.constant(undefined), details, fc.array(text, { maxLength: 3 }));
    const event = fc.record(
      {
        action: fc.oneof(text, any),
        actor: fc.oneof(fc.record({ email: text, groups: fc.array(text, { maxLength: 2 }), id: text, idp: text, name: text, verified: fc.boolean(), extra: any }, { requiredKeys: ['verified'] }), any),
        details: fc.oneof(details, any),
        device: fc.oneof(fc.record({ id: text, prev: text, seq: number }, { requiredKeys: ['id', 'seq'] }), any),
        host: text,
        id: fc.constantFrom('x', 'other'),
        outcome: text,
        reason: text,
        source: text,
        target: fc.oneof(fc.record({ id: text, name: text, type: text }, { requiredKeys: ['type'] }), any),
        time: text,
        unknown: any,
      },
      { requiredKeys: ['action', 'actor', 'outcome', 'source'] },
    );
    const fields = fc.record(
      {
        id: fc.constant('x'),
        received: text,
        index: fc.oneof(fc.nat(), number),
        submitter: fc.record({ id: text, name: fc.option(text, { nil: undefined }), type: fc.string({ maxLength: 20 }) }, { requiredKeys: ['id', 'type'] }),
      },
      { requiredKeys: ['id', 'received', 'index'] },
    );
    fc.assert(
      fc.property(event, fields, (e, f) => {
        expect(actualOf(e, f)).toEqual(referenceOf(e, f));
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps earlier results intact while writing more, across chunks and for large records', () => {
    const record = (i: number, reason: string) => toRecord({ source: 's', action: 'a', actor: { id: `u${i}`, verified: false }, outcome: 'unknown', reason }, { ...store, index: i });
    const made: [EventRecord, Uint8Array][] = [];
    for (let i = 0; i < 300; i++) {
      const r = record(i, 'x'.repeat((i * 37) % 3000) + (i % 7 === 0 ? '\u00e9\n' : ''));
      made.push([r, recordBytes(r)]);
    }
    for (const [r, bytes] of made) expect(Uint8Array.from(bytes)).toEqual(canonicalBytes(r));
  });

  it('refuses to make an entry from a prepared event whose bytes were transferred away', () => {
    const event = validateEvent({ source: 's', action: 'a', actor: { id: 'u' } });
    if (!event.ok) throw new Error('test event invalid');
    const prepared = prepareEvent(event.event);
    const runs = prepared.runs!;
    structuredClone(runs.buffer, { transfer: [runs.buffer as ArrayBuffer] });
    expect(() => entryBytes(prepared, store)).toThrow(/transferred away/);
  });

  it('starts a new chunk when a result buffer was transferred away', () => {
    const r = toRecord({ source: 's', action: 'a', actor: { id: 'u', verified: false }, outcome: 'unknown' }, store);
    const first = recordBytes(r);
    structuredClone(first.buffer, { transfer: [first.buffer as ArrayBuffer] });
    expect(first.length).toBe(0); // detached
    expect(Uint8Array.from(recordBytes(r))).toEqual(canonicalBytes(r));
  });
});
