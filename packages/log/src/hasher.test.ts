import { createHash, hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { concat, toHex, utf8 } from './bytes.js';
import { createHasher } from './hasher.js';

const sha256 = (d: Uint8Array) => new Uint8Array(hash('sha256', d, 'buffer'));
// An independent SHA-256 path, so the hasher is checked against the RFC's formulas.
const reference = (...parts: Uint8Array[]) => new Uint8Array(createHash('sha256').update(concat(...parts)).digest());

describe('createHasher', () => {
  const hasher = createHasher(sha256);

  it('hashes the empty tree as SHA-256 of nothing', () => {
    expect(toHex(hasher.emptyRoot())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hasher.size).toBe(32);
  });

  it('returns a fresh empty root each time', () => {
    const a = hasher.emptyRoot();
    a.fill(0);
    expect(toHex(hasher.emptyRoot())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('prefixes leaves with 0x00 (RFC 6962 empty-leaf hash)', () => {
    expect(toHex(hasher.hashLeaf(new Uint8Array(0)))).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    expect(hasher.hashLeaf(utf8('abc'))).toEqual(reference(Uint8Array.of(0), utf8('abc')));
  });

  it('hashes leaves of every length the same, however long the one before was', () => {
    const sizes = [0, 1, 1023, 1024, 1025, 70_000, 3, 65_535, 65_536, 200_000, 10];
    for (const n of sizes) {
      const entry = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
      expect(hasher.hashLeaf(entry), `length ${n}`).toEqual(reference(Uint8Array.of(0), entry));
    }
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 8 }), (entries) => {
        for (const e of entries) expect(hasher.hashLeaf(e)).toEqual(reference(Uint8Array.of(0), e));
      }),
    );
  });

  it('prefixes nodes with 0x01', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (l, r) => {
        expect(hasher.hashChildren(l, r)).toEqual(reference(Uint8Array.of(1), l, r));
      }),
    );
  });

  it('does not let its scratch buffer leak between calls', () => {
    const a = new Uint8Array(32).fill(1);
    const b = new Uint8Array(32).fill(2);
    const first = hasher.hashChildren(a, b);
    const copy = first.slice();
    hasher.hashChildren(b, a);
    expect(first).toEqual(copy);
    expect(a).toEqual(new Uint8Array(32).fill(1));
  });

  it('hashes odd-sized children as RFC 6962 would', () => {
    const l = utf8('short');
    const r = new Uint8Array(33).fill(7);
    expect(hasher.hashChildren(l, r)).toEqual(reference(Uint8Array.of(1), l, r));
  });

  it('rejects a digest of the wrong size', () => {
    expect(() => createHasher(() => new Uint8Array(20))).toThrow(TypeError);
  });
});
