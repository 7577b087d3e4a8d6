import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalBytes } from './canonicalJson.js';
import { toRecord, validateEvent } from './event.js';
import { forInIsOwn, forInOwn, keysSorted, prototypeClean, sortKeys } from './members.js';
import { recordBytes } from './recordBytes.js';

describe('sortKeys', () => {
  it('orders as sort() does, by UTF-16 code units', () => {
    const key = fc.oneof(fc.string({ unit: 'binary', maxLength: 5 }), fc.constantFrom('10', '9', '\ud83d\ude00', '\uffff', ''));
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 40 }), (keys) => {
        expect(sortKeys([...keys])).toEqual([...keys].sort());
      }),
    );
  });
});

describe('keysSorted', () => {
  it('says whether for-in lists the keys in JCS order', () => {
    expect(keysSorted({ a: 1, b: 2, c: 3 })).toBe(true);
    expect(keysSorted({ b: 1, a: 2 })).toBe(false);
    expect(keysSorted({ '10': 1, '9': 2 })).toBe(false); // integer-like keys come first, in numeric order
    expect(keysSorted({})).toBe(true);
  });
});

describe('with Object.prototype polluted', () => {
  afterEach(() => {
    delete (Object.prototype as Record<string, unknown>).source;
    delete (Object.prototype as Record<string, unknown>).zzz;
  });
  const pollute = (key: string, value: unknown) => Object.defineProperty(Object.prototype, key, { value, enumerable: true, configurable: true, writable: true });

  it('for-in is not taken as listing own keys', () => {
    expect(prototypeClean()).toBe(true);
    expect(forInIsOwn({}, prototypeClean())).toBe(true);
    pollute('zzz', 1);
    expect(prototypeClean()).toBe(false);
    expect(forInIsOwn({ a: 1 }, prototypeClean())).toBe(false);
    expect(forInIsOwn(Object.create(null), prototypeClean())).toBe(true);
    const copy = forInOwn({ a: 1 }, prototypeClean());
    expect(Object.getPrototypeOf(copy)).toBe(null);
    expect(Object.keys(copy)).toEqual(['a']);
  });

  it('validation reads no inherited member', () => {
    pollute('source', 'emacs');
    const r = validateEvent({ action: 'file.save', actor: { id: 'a' } });
    expect(r.ok ? [] : r.errors.map((e) => [e.field, e.code])).toEqual([['source', 'required']]);
  });

  it('validation copies details and records are written without inherited members', () => {
    pollute('zzz', 'polluted');
    const r = validateEvent({ source: 's', action: 'a', actor: { id: 'a' }, details: { b: { y: 1, x: 2 }, a: 1 } });
    if (!r.ok) throw new Error('expected valid');
    expect(Object.keys(r.event.details!)).toEqual(['a', 'b']);
    const record = toRecord(r.event, { id: 'x', received: '2026-01-01T00:00:00.000Z', index: 0 });
    const bytes = Uint8Array.from(recordBytes(record));
    expect(bytes).toEqual(canonicalBytes(record));
    expect(new TextDecoder().decode(bytes)).not.toContain('polluted');
  });
});
