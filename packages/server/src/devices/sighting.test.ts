/**
 * A device event read from stored bytes: the members found without parsing
 * match the parsed record, and the chain hash spliced from the bytes is the
 * one {@link chainHash} defines, for every shape of record (nested keys named
 * like the store's, strings full of quotes, braces and backslashes, non-ASCII
 * text, a bound actor, an empty details).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { recordBytes, toRecord, validateEvent, type EventRecord, type Submitter } from '@stele/log';
import { parseRecord } from '@stele/store';
import { bindEvents } from '../auth/bind.js';
import { memberOf, membersOf } from './members.js';
import { chainHash, Sighting } from './sighting.js';

const stored = (event: Record<string, unknown>, index = 7, submitter?: Submitter) => {
  const checked = validateEvent(event);
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  const record = toRecord(checked.event, { id: checked.event.id ?? `e-${index}`, received: '2026-11-27T10:00:00.123Z', index, submitter });
  return { index, id: record.id, leafHash: new Uint8Array(32), bytes: recordBytes(record) };
};

const base = {
  id: 'ev-1',
  source: 'emacs',
  action: 'file.save',
  actor: { id: 'ada', email: 'ada@example.com' },
  device: { id: 'laptop', seq: 3, prev: 'a'.repeat(64) },
};

describe('membersOf', () => {
  test('finds each top-level member of canonical bytes, skipping nested ones and strings', () => {
    const bytes = Buffer.from(JSON.stringify({ a: { index: 1, b: [1, { c: '}' }] }, d: 'x\\"y,"z":1', e: [], f: {}, g: null }));
    const members = membersOf(bytes);
    expect(members.map((m) => m.key)).toEqual(['a', 'd', 'e', 'f', 'g']);
    for (const m of members) expect(JSON.parse(bytes.toString('utf8', m.value, m.end))).toEqual((JSON.parse(bytes.toString()) as Record<string, unknown>)[m.key]);
    expect(membersOf(Buffer.from('{}'))).toEqual([]);
  });

  test('memberOf finds one top-level member, never a nested one of the same name', () => {
    const bytes = Buffer.from(JSON.stringify({ details: { device: { id: 'inner' } }, device: { id: 'outer', seq: 2 }, z: 1 }));
    const device = memberOf(bytes, 'device')!;
    expect(JSON.parse(bytes.toString('utf8', device.value, device.end))).toEqual({ id: 'outer', seq: 2 });
    expect(memberOf(bytes, 'missing')).toBeUndefined();
    expect(memberOf(Buffer.from(JSON.stringify({ details: { device: 1 } })), 'device')).toBeUndefined();
  });

  test('refuses bytes that are not an object or end early, without reading past them', () => {
    for (const text of ['[1]', '{"a":1', '{"a":"xx', '{"a":{"b":[1,2]', '{"a"', '{"a":}', '']) {
      expect(() => membersOf(Buffer.from(text)), text).toThrow(RangeError);
      expect(() => memberOf(Buffer.from(text), 'b'), text).toThrow(RangeError);
    }
  });
});

describe('Sighting', () => {
  test('reads device, time, user and submitter as the parsed record has them', () => {
    const entry = stored(base, 7, { type: 'token', id: 'abc', name: 'we"ird}name' });
    const record = parseRecord(entry.bytes);
    const s = Sighting.of(entry)!;
    expect(s.index).toBe(7);
    expect(s.device).toEqual(record.device);
    expect(s.received).toBe(record.received);
    expect(s.user).toEqual({ id: 'ada', email: 'ada@example.com', verified: false });
    expect(s.submitter).toEqual(record.submitter);
    expect(s.record).toEqual(record);
    expect(s.hash).toBe(chainHash(record));
  });

  test('a record without a top-level device is no sighting, even with a device key in details', () => {
    expect(Sighting.of(stored({ ...base, device: undefined }))).toBeUndefined();
    expect(Sighting.of(stored({ ...base, device: undefined, details: { device: { id: 'x', seq: 1 } } }))).toBeUndefined();
  });

  test('the hash of an event whose actor the collector bound, or with an empty details, is still the sent form\'s', () => {
    const person = { kind: 'oidc', identity: { kind: 'person', actor: { id: 'alice', idp: 'https://idp.example', verified: true }, roles: ['ingest'], groupsOverage: true } };
    const [bound] = bindEvents([{ ...base, actor: { id: 'mallory' }, details: { note: 'x' } }], person as never) as Record<string, unknown>[];
    for (const event of [bound!, { ...base, details: {} }, { ...base, details: { a: 1 } }, { ...base, actor: { id: 'svc', verified: true } }]) {
      const entry = stored(event);
      expect(Sighting.of(entry)!.hash).toBe(chainHash(parseRecord(entry.bytes)));
    }
  });

  test('property: the spliced hash is chainHash for any details, target and submitter', () => {
    const key = fc.oneof(fc.constantFrom('index', 'v', 'received', 'submitter', 'device', 'details', 'claimedActor', '"', '}', '\\', 'é', '10', '2'), fc.string({ maxLength: 6 }));
    const leaf = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('"}],{[\\"', '\u2028', '😀', 'x\\'), fc.integer(), fc.boolean(), fc.constant(null));
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(key, tie('value'), { maxKeys: 4 })),
    })).value;
    const details = fc.option(fc.dictionary(key, json, { maxKeys: 5 }), { nil: undefined });
    const name = fc.stringMatching(/^[\x21-\x7e]{1,20}$/);
    // Any device the schema allows: read straight from the bytes, it must be what parsing gives.
    const device = fc.record(
      {
        id: fc.stringMatching(/^[A-Za-z0-9._:@/+=-]{1,128}$/),
        seq: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constantFrom(10, 999_999_999_999_999, 1_000_000_000_000_000, Number.MAX_SAFE_INTEGER), fc.integer({ min: 1 })),
        prev: fc.stringMatching(/^[0-9a-f]{64}$/),
      },
      { requiredKeys: ['id', 'seq'] },
    );
    fc.assert(
      fc.property(details, fc.option(name, { nil: undefined }), fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }), device, (d, submitterName, reason, dev) => {
        const event = { ...base, device: dev, ...(d !== undefined && { details: d }), ...(reason !== undefined && { reason }), target: { type: 'file', id: '/"}{/x' } };
        if (!validateEvent(event).ok) return;
        const entry = stored(event, 12, submitterName === undefined ? undefined : { type: 'token', id: 'id1', name: submitterName });
        const record: EventRecord = parseRecord(entry.bytes);
        const s = Sighting.of(entry)!;
        expect(s.device).toEqual(record.device);
        expect(s.hash).toBe(chainHash(record));
      }),
      { numRuns: 300 },
    );
  });
});
