import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHasher } from '@stele/log';
import { nodeHasher, sha256 } from './hash.js';

/** SHA-256 the plain way, as the reference. */
const reference = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest());
const referenceHasher = createHasher(reference);

describe('sha256', () => {
  it('is SHA-256, as a plain Uint8Array', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
        const digest = sha256(data);
        expect(Object.getPrototypeOf(digest)).toBe(Uint8Array.prototype);
        expect(digest).toEqual(reference(data));
      }),
    );
  });

  it('never changes a digest it returned, across chunks', () => {
    const inputs = Array.from({ length: 1000 }, (_, i) => new TextEncoder().encode(`entry ${i}`));
    const digests = inputs.map(sha256);
    inputs.forEach((data, i) => expect(digests[i]).toEqual(reference(data)));
  });

  it('starts a new chunk when a digest buffer was transferred away', () => {
    const first = sha256(new Uint8Array([1]));
    structuredClone(first.buffer, { transfer: [first.buffer as ArrayBuffer] });
    expect(sha256(new Uint8Array([2]))).toEqual(reference(new Uint8Array([2])));
  });
});

describe('nodeHasher', () => {
  it('hashes leaves and nodes as RFC 6962 does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (entry, l, r) => {
        expect(nodeHasher.hashLeaf(entry)).toEqual(referenceHasher.hashLeaf(entry));
        expect(nodeHasher.hashChildren(l, r)).toEqual(referenceHasher.hashChildren(l, r));
      }),
    );
    expect(nodeHasher.emptyRoot()).toEqual(referenceHasher.emptyRoot());
  });
});
