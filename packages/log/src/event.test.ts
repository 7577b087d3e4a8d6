import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from './canonicalJson.js';
import {
  EventValidationError,
  STORE_FIELDS,
  formatTime,
  newEventId,
  parseTime,
  recordBytes,
  sameEvent,
  toRecord,
  validateEvent,
  type EventInput,
} from './event.js';

const minimal = { source: 'emacs', action: 'file.save', actor: { email: 'ada@example.com' } };

function valid(input: unknown): EventInput {
  const r = validateEvent(input);
  if (!r.ok) throw new Error(`expected valid, got ${JSON.stringify(r.errors)}`);
  return r.event;
}

/** [field, code] pairs of every error, in order. */
function errorsOf(input: unknown): [string, string][] {
  const r = validateEvent(input);
  if (r.ok) throw new Error('expected invalid');
  return r.errors.map((e) => [e.field, e.code]);
}

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    return (e as { code?: string }).code ?? `not a LogError: ${(e as Error).name}`;
  }
  throw new Error('expected an error');
}

describe('validateEvent: valid events', () => {
  it('normalizes a minimal event with its defaults', () => {
    expect(valid(minimal)).toEqual({ ...minimal, actor: { email: 'ada@example.com', verified: false }, outcome: 'unknown' });
  });

  it('keeps every field of a full event', () => {
    const full = {
      id: 'emacs:laptop/42',
      time: '2025-03-01T10:20:30.123456+01:00',
      source: 'git',
      action: 'vc.commit',
      actor: { id: 'ada', email: 'ada@example.com', name: 'Ada Lovelace', groups: ['eng', 'admins'], idp: 'https://idp.example', verified: true },
      target: { type: 'repository', id: 'git@example.com:stele.git', name: 'stele' },
      outcome: 'success',
      reason: 'Fix the parser\n\n\tSee #12.',
      host: 'laptop.example',
      device: { id: 'laptop-1', seq: 7, prev: 'ab'.repeat(32) },
      details: { sha: 'abc', files: ['a.ts', { n: 1.5, x: null, deep: [[[true]]] }], __proto__x: 1 },
    };
    expect(valid(full)).toEqual({ ...full, time: '2025-03-01T09:20:30.123Z' });
  });

  it.each<[string, Record<string, unknown>]>([
    ['an actor with only an id', { actor: { id: 'system:serviceaccount:kube-system:default' } }],
    ['an id with every allowed character', { id: 'Az09._:@/+=-' }],
    ['a 128-character id', { id: 'x'.repeat(128) }],
    ['a UUIDv7 id', { id: '01890a5d-ac96-774b-bcce-b302099a8057' }],
    ['a 64-character source', { source: `a${'b'.repeat(63)}` }],
    ['a source with dots and dashes', { source: 'aws.cloudtrail-v2_x' }],
    ['a one-word action', { action: 'login' }],
    ['a 128-character action', { action: `${'a'.repeat(63)}.${'b'.repeat(64)}` }],
    ['outcome failure', { outcome: 'failure' }],
    ['a CloudTrail target type', { target: { type: 'AWS::S3::Bucket', id: 'arn:aws:s3:::b' } }],
    ['a non-ASCII name', { actor: { email: 'z@example.com', name: 'Zoë \u{1F600}' } }],
    ['256 astral characters in a name', { actor: { email: 'z@example.com', name: '\u{1F600}'.repeat(256) } }],
    ['empty groups', { actor: { id: 'a', groups: [] } }],
    ['64 groups', { actor: { id: 'a', groups: Array.from({ length: 64 }, (_, i) => `g${i}`) } }],
    ['a time with Z', { time: '2025-01-01T00:00:00Z' }],
    ['a time with lower-case t and z', { time: '2025-01-01t00:00:00z' }],
    ['a leap day', { time: '2024-02-29T12:00:00Z' }],
    ['empty details', { details: {} }],
    ['device seq 2^53 - 1', { device: { id: 'd', seq: Number.MAX_SAFE_INTEGER } }],
  ])('accepts %s', (_, change) => {
    expect(validateEvent({ ...minimal, ...change }).ok).toBe(true);
  });

  it('normalizes time to UTC milliseconds, truncating finer digits', () => {
    expect(valid({ ...minimal, time: '2025-01-01T00:30:00.9999-01:30' }).time).toBe('2025-01-01T02:00:00.999Z');
    expect(valid({ ...minimal, time: '2025-01-01T00:00:00+00:00' }).time).toBe('2025-01-01T00:00:00.000Z');
    expect(valid({ ...minimal, time: '2025-01-01T00:00:00-00:00' }).time).toBe('2025-01-01T00:00:00.000Z');
  });

  it('copies details, keeping "__proto__" as data', () => {
    const input = JSON.parse('{"source":"s","action":"a","actor":{"id":"x"},"details":{"__proto__":{"polluted":true},"list":[1]}}');
    const event = valid(input);
    // A null-prototype copy: "__proto__" is an own data member, nothing is inherited or polluted.
    expect(Object.getPrototypeOf(event.details)).toBe(null);
    expect(Object.keys(event.details!)).toEqual(['__proto__', 'list']);
    expect((event.details as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(event.details).not.toBe(input.details);
    input.details.list.push(2);
    expect(event.details!.list).toEqual([1]);
  });
});

describe('validateEvent: invalid events', () => {
  it.each<[string, unknown, [string, string][]]>([
    ['null', null, [['', 'type']]],
    ['an array', [minimal], [['', 'type']]],
    ['a string', 'event', [['', 'type']]],
    ['an empty object', {}, [['source', 'required'], ['action', 'required'], ['actor', 'required']]],
    ['an unknown field', { ...minimal, user: 'x' }, [['user', 'unknown_field']]],
    ['store fields', { ...minimal, v: 1, received: '2025-01-01T00:00:00.000Z', index: 3 }, [['v', 'store_field'], ['received', 'store_field'], ['index', 'store_field']]],
    ['a numeric id', { ...minimal, id: 42 }, [['id', 'type']]],
    ['an empty id', { ...minimal, id: '' }, [['id', 'format']]],
    ['an id with a space', { ...minimal, id: 'a b' }, [['id', 'format']]],
    ['an id with a non-ASCII letter', { ...minimal, id: 'caf\u00e9' }, [['id', 'format']]],
    ['a 129-character id', { ...minimal, id: 'x'.repeat(129) }, [['id', 'too_long']]],
    ['a null id', { ...minimal, id: null }, [['id', 'type']]],
    ['a time without offset', { ...minimal, time: '2025-01-01T00:00:00' }, [['time', 'format']]],
    ['a date', { ...minimal, time: '2025-01-01' }, [['time', 'format']]],
    ['a numeric time', { ...minimal, time: 1735689600000 }, [['time', 'type']]],
    ['a time with a space separator', { ...minimal, time: '2025-01-01 00:00:00Z' }, [['time', 'format']]],
    ['February 30', { ...minimal, time: '2025-02-30T00:00:00Z' }, [['time', 'format']]],
    ['February 29 in a common year', { ...minimal, time: '2100-02-29T00:00:00Z' }, [['time', 'format']]],
    ['hour 24', { ...minimal, time: '2025-01-01T24:00:00Z' }, [['time', 'format']]],
    ['a leap second', { ...minimal, time: '2016-12-31T23:59:60Z' }, [['time', 'format']]],
    ['offset +24:00', { ...minimal, time: '2025-01-01T00:00:00+24:00' }, [['time', 'format']]],
    ['offset without colon', { ...minimal, time: '2025-01-01T00:00:00+0100' }, [['time', 'format']]],
    ['a time before year 0', { ...minimal, time: '0000-01-01T00:00:00+00:01' }, [['time', 'format']]],
    ['a missing source', { action: 'a', actor: { id: 'x' } }, [['source', 'required']]],
    ['an upper-case source', { ...minimal, source: 'Emacs' }, [['source', 'format']]],
    ['a source starting with a dot', { ...minimal, source: '.emacs' }, [['source', 'format']]],
    ['a 65-character source', { ...minimal, source: 'a'.repeat(65) }, [['source', 'too_long']]],
    ['an action with an empty segment', { ...minimal, action: 'file..save' }, [['action', 'format']]],
    ['an action ending in a dot', { ...minimal, action: 'file.' }, [['action', 'format']]],
    ['an upper-case action', { ...minimal, action: 'File.Save' }, [['action', 'format']]],
    ['a 129-character action', { ...minimal, action: 'a'.repeat(129) }, [['action', 'too_long']]],
    ['a string actor', { ...minimal, actor: 'ada' }, [['actor', 'type']]],
    ['an actor without id or email', { ...minimal, actor: { name: 'Ada' } }, [['actor.id', 'required']]],
    ['an actor with an unknown field', { ...minimal, actor: { id: 'a', role: 'x' } }, [['actor.role', 'unknown_field']]],
    ['an invalid email', { ...minimal, actor: { email: 'ada.example.com' } }, [['actor.email', 'format']]],
    ['an email with a space', { ...minimal, actor: { email: 'ada @example.com' } }, [['actor.email', 'format']]],
    ['a control character in a name', { ...minimal, actor: { id: 'a', name: 'A\u001b[31m' } }, [['actor.name', 'format']]],
    ['a C1 control in a name', { ...minimal, actor: { id: 'a', name: 'A\u009b' } }, [['actor.name', 'format']]],
    ['a newline in an actor id', { ...minimal, actor: { id: 'a\nb' } }, [['actor.id', 'format']]],
    ['a lone surrogate in a name', { ...minimal, actor: { id: 'a', name: '\ud800' } }, [['actor.name', 'format']]],
    ['257 characters in a name', { ...minimal, actor: { id: 'a', name: 'n'.repeat(257) } }, [['actor.name', 'too_long']]],
    ['groups as a string', { ...minimal, actor: { id: 'a', groups: 'eng' } }, [['actor.groups', 'type']]],
    ['65 groups', { ...minimal, actor: { id: 'a', groups: Array.from({ length: 65 }, (_, i) => `g${i}`) } }, [['actor.groups', 'too_long']]],
    ['bad group items', { ...minimal, actor: { id: 'a', groups: ['ok', 3, ''] } }, [['actor.groups.1', 'type'], ['actor.groups.2', 'format']]],
    ['verified as a string', { ...minimal, actor: { id: 'a', verified: 'true' } }, [['actor.verified', 'type']]],
    ['a target without type', { ...minimal, target: { id: 'x' } }, [['target.type', 'required']]],
    ['a target type with a space', { ...minimal, target: { type: 'a b' } }, [['target.type', 'format']]],
    ['a target with an unknown field', { ...minimal, target: { type: 'file', path: '/x' } }, [['target.path', 'unknown_field']]],
    ['a 4097-character target id', { ...minimal, target: { type: 'file', id: 'x'.repeat(4097) } }, [['target.id', 'too_long']]],
    ['a null target', { ...minimal, target: null }, [['target', 'type']]],
    ['an unknown outcome', { ...minimal, outcome: 'ok' }, [['outcome', 'enum']]],
    ['a boolean outcome', { ...minimal, outcome: true }, [['outcome', 'type']]],
    ['a carriage return in reason', { ...minimal, reason: 'a\r\nb' }, [['reason', 'format']]],
    ['4097 characters of reason', { ...minimal, reason: 'r'.repeat(4097) }, [['reason', 'too_long']]],
    ['a host with a space', { ...minimal, host: 'my host' }, [['host', 'format']]],
    ['a device without id and seq', { ...minimal, device: {} }, [['device.id', 'required'], ['device.seq', 'required']]],
    ['device seq 0', { ...minimal, device: { id: 'd', seq: 0 } }, [['device.seq', 'range']]],
    ['device seq 1.5', { ...minimal, device: { id: 'd', seq: 1.5 } }, [['device.seq', 'type']]],
    ['device seq as a string', { ...minimal, device: { id: 'd', seq: '1' } }, [['device.seq', 'type']]],
    ['device seq 2^53', { ...minimal, device: { id: 'd', seq: 2 ** 53 } }, [['device.seq', 'range']]],
    ['upper-case device prev', { ...minimal, device: { id: 'd', seq: 1, prev: 'AB'.repeat(32) } }, [['device.prev', 'format']]],
    ['short device prev', { ...minimal, device: { id: 'd', seq: 1, prev: 'ab' } }, [['device.prev', 'format']]],
    ['details as an array', { ...minimal, details: [1] }, [['details', 'type']]],
    ['details as a string', { ...minimal, details: 'x' }, [['details', 'type']]],
    ['a lone surrogate in details', { ...minimal, details: { a: ['\udc00'] } }, [['details.a.0', 'format']]],
    ['a lone surrogate in a details key', { ...minimal, details: { '\ud800': 1 } }, [['details.\ud800', 'format']]],
    ['NaN in details', { ...minimal, details: { n: NaN } }, [['details.n', 'type']]],
    ['undefined in details', { ...minimal, details: { u: undefined } }, [['details.u', 'type']]],
    ['a Date in details', { ...minimal, details: { d: new Date(0) } }, [['details.d', 'type']]],
    ['details nested 33 levels', { ...minimal, details: { a: JSON.parse(`${'['.repeat(32)}1${']'.repeat(32)}`) } }, [[`details.a${'.0'.repeat(31)}`, 'too_deep']]],
    ['an event over the byte budget', { ...minimal, details: { a: 'x'.repeat(65_300) } }, [['', 'too_large']]],
  ])('rejects %s', (_, input, expected) => {
    expect(errorsOf(input)).toEqual(expected);
  });

  it('leaves room for the store fields: a valid event always fits the 65,535-byte entry', () => {
    const base = canonicalBytes(valid({ ...minimal, details: { a: '' } })).length;
    const event = valid({ ...minimal, details: { a: 'x'.repeat(65_535 - 1024 - base) } });
    expect(canonicalBytes(event).length).toBe(65_535 - 1024);
    expect(errorsOf({ ...minimal, details: { a: 'x'.repeat(65_535 - 1024 - base + 1) } })).toEqual([['', 'too_large']]);
    // The largest store fields: a filled-in id and time, the largest index, and a maximal submitter (3-byte characters).
    const submitter = { type: 'x'.repeat(16), id: '\u20ac'.repeat(128), name: '\u20ac'.repeat(128) };
    const record = toRecord(event, { id: newEventId(), received: '2025-01-01T00:00:00.000Z', index: Number.MAX_SAFE_INTEGER, submitter });
    expect(canonicalBytes(record).length).toBeLessThanOrEqual(65_535);
  });

  it('reports every error of the event at once', () => {
    expect(errorsOf({ id: '', source: 'X', actor: { name: 1 }, outcome: 'maybe', extra: 1 })).toEqual([
      ['extra', 'unknown_field'],
      ['id', 'format'],
      ['source', 'format'],
      ['action', 'required'],
      ['actor.id', 'required'],
      ['actor.name', 'type'],
      ['outcome', 'enum'],
    ]);
  });

  it('keeps error paths short for huge unknown keys', () => {
    const [[field]] = errorsOf({ ...minimal, ['k'.repeat(10_000)]: 1 }) as [[string, string]];
    expect(field.length).toBeLessThan(100);
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        validateEvent(v);
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) validateEvent({ ...minimal, ...v });
      }),
    );
  });
});

describe('EventValidationError', () => {
  it('carries the code and every error with its position', () => {
    const err = new EventValidationError([
      { event: 2, field: 'source', code: 'required', message: 'is required' },
      { event: 5, field: 'actor.email', code: 'format', message: 'bad' },
    ]);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ERR_EVENT_INVALID');
    expect(err.name).toBe('EventValidationError');
    expect(err.errors.map((e) => [e.event, e.field, e.code])).toEqual([
      [2, 'source', 'required'],
      [5, 'actor.email', 'format'],
    ]);
  });
});

describe('records', () => {
  const store = { id: '01890a5d-ac96-774b-bcce-b302099a8057', received: '2025-01-01T00:00:00.000Z', index: 7 };

  it('lists the store fields', () => {
    expect(STORE_FIELDS).toEqual(['v', 'received', 'index', 'submitter']);
  });

  it('adds the store fields and defaults id and time', () => {
    const record = toRecord(valid(minimal), store);
    expect(record).toEqual({ v: 1, ...store, time: store.received, ...minimal, actor: { email: 'ada@example.com', verified: false }, outcome: 'unknown' });
    expect(new TextDecoder().decode(canonicalBytes(record))).toBe(
      '{"action":"file.save","actor":{"email":"ada@example.com","verified":false},"id":"01890a5d-ac96-774b-bcce-b302099a8057",' +
        '"index":7,"outcome":"unknown","received":"2025-01-01T00:00:00.000Z","source":"emacs","time":"2025-01-01T00:00:00.000Z","v":1}',
    );
  });

  it('keeps the client id and time', () => {
    const record = toRecord(valid({ ...minimal, id: 'abc', time: '2024-12-31T23:00:00Z' }), { ...store, id: 'abc' });
    expect([record.id, record.time]).toEqual(['abc', '2024-12-31T23:00:00.000Z']);
  });

  it('refuses a store id that differs from the client id', () => {
    expect(() => toRecord(valid({ ...minimal, id: 'abc' }), store)).toThrow(RangeError);
  });

  it('refuses a bad index', () => {
    expect(() => toRecord(valid(minimal), { ...store, index: -1 })).toThrow(RangeError);
    expect(() => toRecord(valid(minimal), { ...store, index: 1.5 })).toThrow(RangeError);
  });

  it('serializes to the canonical bytes, also when details have integer-like keys', () => {
    const details = { '10': 1, '9': [{ '2': 'b', '!': 'a', b: 0 }], a: { '0': null }, '': 'empty' };
    const record = toRecord(valid({ ...minimal, details }), store);
    expect(new TextDecoder().decode(recordBytes(record))).toContain('"details":{"":"empty","10":1,"9":[{"!":"a","2":"b","b":0}],"a":{"0":null}}');
    expect(recordBytes(record)).toEqual(canonicalBytes(record));
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), (d) => {
        const r = validateEvent({ ...minimal, details: d });
        if (!r.ok) return;
        const rec = toRecord(r.event, store);
        expect(recordBytes(rec)).toEqual(canonicalBytes(rec));
      }),
    );
  });

  it('does not share mutable parts with the input', () => {
    const event = valid({ ...minimal, actor: { id: 'a', groups: ['g'] }, target: { type: 'file' } });
    const record = toRecord(event, store);
    event.actor.groups!.push('h');
    event.target!.type = 'dir';
    expect(record.actor.groups).toEqual(['g']);
    expect(record.target!.type).toBe('file');
  });
});

describe('sameEvent', () => {
  const store = { id: 'x', received: '2025-01-01T00:00:00.000Z', index: 3 };
  const input = valid({ ...minimal, id: 'k1', time: '2025-01-01T02:00:00+01:00', details: { a: [1, 2] } });
  const stored = toRecord(input, { ...store, id: 'k1' });

  it('matches the same content, however it was written', () => {
    expect(sameEvent(valid({ details: { a: [1, 2] }, time: '2025-01-01T01:00:00.000Z', actor: { verified: false, email: 'ada@example.com' }, id: 'k1', outcome: 'unknown', action: 'file.save', source: 'emacs' }), stored)).toBe(true);
  });

  it('does not match different content', () => {
    expect(sameEvent(valid({ ...minimal, id: 'k1', time: '2025-01-01T01:00:00Z', details: { a: [2, 1] } }), stored)).toBe(false);
    expect(sameEvent(valid({ ...minimal, id: 'k1', time: '2025-01-01T01:00:00Z', details: { a: [1, 2] }, outcome: 'success' }), stored)).toBe(false);
  });

  it('compares the id', () => {
    expect(sameEvent(valid({ ...minimal, id: 'k2', time: '2025-01-01T01:00:00Z', details: { a: [1, 2] } }), stored)).toBe(false);
    const assigned = toRecord(valid(minimal), store);
    expect(sameEvent(valid(minimal), assigned)).toBe(false);
  });

  it('matches an absent time only to a defaulted one', () => {
    const defaulted = toRecord(valid({ ...minimal, id: 'k3' }), { ...store, id: 'k3' });
    expect(sameEvent(valid({ ...minimal, id: 'k3' }), defaulted)).toBe(true);
    expect(sameEvent(valid({ ...minimal, id: 'k1', details: { a: [1, 2] } }), stored)).toBe(false);
  });
});

describe('newEventId', () => {
  it('makes RFC 9562 version 7 UUIDs carrying the time', () => {
    const id = newEventId(0x0189_0a5d_ac96);
    expect(id).toMatch(/^01890a5d-ac96-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(valid({ ...minimal, id }).id).toBe(id);
  });

  it('uses the current time by default and differs every call, across refills of the random pool', () => {
    const before = Date.now();
    const ids = new Set(Array.from({ length: 1000 }, () => newEventId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt([...ids][0]!.replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
  });

  it('sorts by time across milliseconds', () => {
    expect(newEventId(1000) < newEventId(1001)).toBe(true);
    expect(newEventId(0xffff_ffff_ffff).startsWith('ffffffff-ffff-7')).toBe(true);
  });

  it.each([-1, 1.5, 2 ** 48, NaN])('refuses %s', (ms) => {
    expect(() => newEventId(ms)).toThrow(RangeError);
  });
});

describe('formatTime and parseTime', () => {
  it.each([
    [0, '1970-01-01T00:00:00.000Z'],
    [-1, '1969-12-31T23:59:59.999Z'],
    [-62_167_219_200_000, '0000-01-01T00:00:00.000Z'],
    [253_402_300_799_999, '9999-12-31T23:59:59.999Z'],
    [951_782_400_000, '2000-02-29T00:00:00.000Z'],
  ])('%d is %s', (ms, text) => {
    expect(formatTime(ms)).toBe(text);
    expect(parseTime(text)).toBe(ms);
  });

  it('parses years below 100 literally', () => {
    expect(formatTime(parseTime('0099-06-15T12:00:00Z'))).toBe('0099-06-15T12:00:00.000Z');
  });

  it('round-trips every millisecond in range, with any offset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -62_167_219_200_000 + 86_400_000, max: 253_402_300_799_999 - 86_400_000 }),
        fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
        (ms, offset) => {
          expect(parseTime(formatTime(ms))).toBe(ms);
          const local = formatTime(ms + offset * 60_000).slice(0, -1);
          const abs = Math.abs(offset);
          const suffix = `${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          expect(parseTime(`${local}${suffix}`)).toBe(ms);
        },
      ),
    );
  });

  it('parses the record format exactly: valid fields give their instant, others are refused', () => {
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 19 }), fc.integer({ min: 0, max: 39 })),
        fc.tuple(fc.integer({ min: 0, max: 29 }), fc.integer({ min: 0, max: 69 }), fc.integer({ min: 0, max: 69 }), fc.integer({ min: 0, max: 999 })),
        ([y, mo, d], [h, mi, s, ms]) => {
          const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`;
          const date = new Date(0);
          date.setUTCFullYear(y, mo - 1, d);
          date.setUTCHours(h, mi, s, ms);
          // Out-of-range fields roll over into another instant, which prints differently.
          if (date.toISOString() === text) expect(parseTime(text)).toBe(date.getTime());
          else expect(codeOf(() => parseTime(text))).toBe('ERR_TIME_MALFORMED');
        },
      ),
    );
  });

  it.each(['2025-02-29T00:00:00.000Z', '2024-02-30T00:00:00.000Z', '2025-01-01T24:00:00.000Z', '2025-01-01T00:00:60.000Z', '2025-01-01T00:00:00.0a0Z', '2025-01-01 00:00:00.000Z', '2025-01-01T00:00:00.000+', '20x5-01-01T00:00:00.000Z'])(
    'parseTime refuses %j in the record format',
    (text) => {
      expect(codeOf(() => parseTime(text))).toBe('ERR_TIME_MALFORMED');
    },
  );

  it.each(['2024-02-29T00:00:00.000Z', '0100-01-01T00:00:00.000Z', '0099-12-31T23:59:59.999Z', '2025-01-01t00:00:00.000z'])('parseTime reads %j as formatTime writes it', (text) => {
    expect(formatTime(parseTime(text))).toBe(text.toUpperCase());
  });

  it.each(['', 'now', '2025-01-01T00:00:00', '2025-1-01T00:00:00Z', '2025-01-01T00:00:00.Z', '2025-13-01T00:00:00Z', '2025-00-10T00:00:00Z', '2025-01-00T00:00:00Z', '2025-04-31T00:00:00Z', '2025-01-01T00:60:00Z', '+2025-01-01T00:00:00Z', '9999-12-31T23:59:59-00:01', '2025-01-01T00:00:00\u0660Z', ' 2025-01-01T00:00:00Z'])(
    'parseTime refuses %j',
    (text) => {
      expect(codeOf(() => parseTime(text))).toBe('ERR_TIME_MALFORMED');
    },
  );

  it.each([NaN, 1.5, 253_402_300_800_000, -62_167_219_200_001])('formatTime refuses %s', (ms) => {
    expect(() => formatTime(ms)).toThrow(RangeError);
  });
});

describe('parseTime: the record-format fast path', () => {
  it('agrees with Date and with the general RFC 3339 path on every instant of years 0000 to 9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }), (ms) => {
        const text = new Date(ms).toISOString(); // the record's format
        expect(parseTime(text)).toBe(ms);
        // The same instant with an offset takes the regex path.
        expect(parseTime(`${text.slice(0, 23)}+00:00`)).toBe(ms);
      }),
      { numRuns: 5000 },
    );
  });

  it.each(['2023-02-29T00:00:00.000Z', '1900-02-29T00:00:00.000Z', '2024-13-01T00:00:00.000Z', '2024-01-01T24:00:00.000Z', '2024-01-01T00:00:60.000Z', '2024-01-01T00:00:00.0a0Z'])(
    'refuses %s',
    (text) => {
      expect(codeOf(() => parseTime(text))).toBe('ERR_TIME_MALFORMED');
    },
  );

  it('accepts leap days and the ends of centuries', () => {
    expect(parseTime('2000-02-29T00:00:00.000Z')).toBe(Date.UTC(2000, 1, 29));
    expect(parseTime('2024-02-29T23:59:59.999Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
    expect(parseTime('0100-03-01T00:00:00.000Z')).toBe(Date.parse('0100-03-01T00:00:00.000Z'));
  });
});
