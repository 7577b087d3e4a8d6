import { hash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromBase64, utf8 } from './bytes.js';
import type { NodeId } from './compactRange.js';
import { LogError, RootMismatchError } from './errors.js';
import { createHasher } from './hasher.js';
import {
  planConsistency,
  planInclusion,
  rootFromInclusionProof,
  rootsFromConsistencyProof,
  verifyConsistency,
  verifyInclusion,
} from './proof.js';
import { vectorsDir } from './testVectors.js';

const hasher = createHasher((d) => new Uint8Array(hash('sha256', d, 'buffer')));

const vectors = vectorsDir('merkle');

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .sort();
}

const b64 = (s: string) => fromBase64(s);

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof LogError ? e.code : 'not a LogError';
  }
  return 'no error';
};

interface InclusionCase {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  wantErr: boolean;
}

interface ConsistencyCase {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  wantErr: boolean;
}

describe('merkle vectors: inclusion', () => {
  const dir = `${vectors}inclusion/`;
  const files = jsonFiles(dir);
  it('finds the vectors', () => expect(files.length).toBeGreaterThan(50));
  for (const file of files) {
    it(file, () => {
      const c = JSON.parse(readFileSync(dir + file, 'utf8')) as InclusionCase;
      const proof = (c.proof ?? []).map(b64);
      const run = () => verifyInclusion(hasher, c.leafIdx, c.treeSize, b64(c.leafHash), proof, b64(c.root));
      if (c.wantErr) {
        expect(run).toThrow(LogError);
      } else {
        run();
        expect(rootFromInclusionProof(hasher, c.leafIdx, c.treeSize, b64(c.leafHash), proof)).toEqual(b64(c.root));
      }
    });
  }
});

describe('merkle vectors: consistency', () => {
  const dir = `${vectors}consistency/`;
  const files = jsonFiles(dir);
  it('finds the vectors', () => expect(files.length).toBeGreaterThan(50));
  for (const file of files) {
    it(file, () => {
      const c = JSON.parse(readFileSync(dir + file, 'utf8')) as ConsistencyCase;
      const run = () => verifyConsistency(hasher, c.size1, c.size2, (c.proof ?? []).map(b64), b64(c.root1), b64(c.root2));
      if (c.wantErr) expect(run).toThrow(LogError);
      else run();
    });
  }
});

// An independent model: RFC 6962 section 2.1 written out recursively.
const MAX = 2000;
const leaves = Array.from({ length: MAX }, (_, i) => hasher.hashLeaf(utf8(`entry ${i}`)));
const memo = new Map<string, Uint8Array>();
const split = (n: number) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

function mth(start: number, end: number): Uint8Array {
  if (end - start === 0) return hasher.emptyRoot();
  if (end - start === 1) return leaves[start]!;
  const key = `${start}:${end}`;
  let h = memo.get(key);
  if (!h) {
    const k = split(end - start);
    h = hasher.hashChildren(mth(start, start + k), mth(start + k, end));
    memo.set(key, h);
  }
  return h;
}

/** PATH(m, D[start:end]) */
function path(m: number, start: number, end: number): Uint8Array[] {
  if (end - start <= 1) return [];
  const k = split(end - start);
  return m < k
    ? [...path(m, start, start + k), mth(start + k, end)]
    : [...path(m - k, start + k, end), mth(start, start + k)];
}

/** SUBPROOF(m, D[start:end], b) */
function subproof(m: number, start: number, end: number, b: boolean): Uint8Array[] {
  const n = end - start;
  if (m === n) return b ? [] : [mth(start, end)];
  const k = split(n);
  return m <= k
    ? [...subproof(m, start, start + k, b), mth(start + k, end)]
    : [...subproof(m - k, start + k, end, false), mth(start, start + k)];
}

const nodeHash = ({ level, index }: NodeId) => mth(index * 2 ** level, (index + 1) * 2 ** level);

function flipped(proof: readonly Uint8Array[], at: number, bit: number): Uint8Array[] {
  const copy = proof.map((h) => h.slice());
  const h = copy[at % copy.length]!;
  h[bit % 32] = h[bit % 32]! ^ (1 << bit % 8);
  return copy;
}

const sizeAndIndex = fc
  .integer({ min: 1, max: MAX })
  .chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 }), fc.integer({ min: 0, max: size - 1 })));

const sizes = fc
  .integer({ min: 1, max: MAX })
  .chain((size2) => fc.tuple(fc.integer({ min: 1, max: size2 }), fc.constant(size2)));

describe('inclusion proofs', () => {
  it('plans only complete nodes and folds them into RFC 6962 PATH', () => {
    fc.assert(
      fc.property(sizeAndIndex, ([size, index]) => {
        const plan = planInclusion(index, size);
        for (const { level, index: i } of plan.ids) expect((i + 1) * 2 ** level).toBeLessThanOrEqual(size);
        const proof = plan.fold(hasher, plan.ids.map(nodeHash));
        expect(proof).toEqual(path(index, 0, size));
        verifyInclusion(hasher, index, size, leaves[index]!, proof, mth(0, size));
        expect(rootFromInclusionProof(hasher, index, size, leaves[index]!, proof)).toEqual(mth(0, size));
      }),
      { numRuns: 300 },
    );
  });

  it('fails for a flipped bit, another index or another leaf', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), fc.nat(), ([size, index, other], at, bit) => {
        const plan = planInclusion(index, size);
        const proof = plan.fold(hasher, plan.ids.map(nodeHash));
        const root = mth(0, size);
        if (proof.length > 0) {
          expect(() => verifyInclusion(hasher, index, size, leaves[index]!, flipped(proof, at, bit), root)).toThrow(
            RootMismatchError,
          );
        }
        if (other !== index) {
          expect(() => verifyInclusion(hasher, other, size, leaves[index]!, proof, root)).toThrow(LogError);
          expect(() => verifyInclusion(hasher, index, size, leaves[other]!, proof, root)).toThrow(RootMismatchError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('names only complete nodes off the leaf path, even for huge trees', () => {
    const big = fc
      .integer({ min: 1, max: Number.MAX_SAFE_INTEGER })
      .chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));
    fc.assert(
      fc.property(big, ([size, index]) => {
        const plan = planInclusion(index, size);
        expect(plan.ids.length).toBeLessThanOrEqual(53 * 2);
        for (const { level, index: i } of plan.ids) {
          expect((i + 1) * 2 ** level).toBeLessThanOrEqual(size);
          expect(Math.floor(index / 2 ** level)).not.toBe(i);
        }
      }),
    );
  });

  it('rejects malformed requests and proofs', () => {
    expect(code(() => planInclusion(5, 5))).toBe('ERR_PROOF_INVALID');
    expect(code(() => planInclusion(-1, 5))).toBe('ERR_PROOF_INVALID');
    expect(code(() => planInclusion(0, 2 ** 64))).toBe('ERR_PROOF_INVALID');
    const plan = planInclusion(3, 7);
    const hashes = plan.ids.map(nodeHash);
    expect(code(() => plan.fold(hasher, hashes.slice(1)))).toBe('ERR_PROOF_INVALID');
    expect(code(() => plan.fold(hasher, [hashes[0]!.subarray(1), ...hashes.slice(1)]))).toBe('ERR_PROOF_INVALID');
    const proof = plan.fold(hasher, hashes);
    const root = mth(0, 7);
    expect(code(() => verifyInclusion(hasher, 3, 7, leaves[3]!, proof.slice(1), root))).toBe('ERR_PROOF_INVALID');
    expect(code(() => verifyInclusion(hasher, 3, 7, leaves[3]!, [...proof, root], root))).toBe('ERR_PROOF_INVALID');
    expect(code(() => verifyInclusion(hasher, 3, 7, leaves[3]!.subarray(1), proof, root))).toBe('ERR_PROOF_INVALID');
    expect(code(() => verifyInclusion(hasher, 3, 7, leaves[3]!, [new Uint8Array(31), ...proof.slice(1)], root))).toBe(
      'ERR_PROOF_INVALID',
    );
    expect(code(() => verifyInclusion(hasher, 3, 7, leaves[3]!, proof, mth(0, 6)))).toBe('ERR_ROOT_MISMATCH');
  });
});

describe('consistency proofs', () => {
  it('folds planned nodes into RFC 6962 PROOF and verifies', () => {
    fc.assert(
      fc.property(sizes, ([size1, size2]) => {
        const plan = planConsistency(size1, size2);
        for (const { level, index } of plan.ids) expect((index + 1) * 2 ** level).toBeLessThanOrEqual(size2);
        const proof = plan.fold(hasher, plan.ids.map(nodeHash));
        expect(proof).toEqual(subproof(size1, 0, size2, true));
        verifyConsistency(hasher, size1, size2, proof, mth(0, size1), mth(0, size2));
        expect(rootsFromConsistencyProof(hasher, size1, size2, proof, mth(0, size1))).toEqual({
          root1: mth(0, size1),
          root2: mth(0, size2),
        });
      }),
      { numRuns: 300 },
    );
  });

  it('fails for a flipped bit or the wrong roots', () => {
    fc.assert(
      fc.property(sizes, fc.nat(), fc.nat(), ([size1, size2], at, bit) => {
        const plan = planConsistency(size1, size2);
        const proof = plan.fold(hasher, plan.ids.map(nodeHash));
        const [root1, root2] = [mth(0, size1), mth(0, size2)];
        if (proof.length > 0) {
          expect(() => verifyConsistency(hasher, size1, size2, flipped(proof, at, bit), root1, root2)).toThrow(
            RootMismatchError,
          );
        }
        const otherRoot = mth(0, size1 - 1);
        expect(() => verifyConsistency(hasher, size1, size2, proof, otherRoot, root2)).toThrow(LogError);
        expect(() => verifyConsistency(hasher, size1, size2, proof, root1, mth(0, size2 - 1))).toThrow(
          RootMismatchError,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('plans nothing between equal sizes or from the empty tree', () => {
    expect(planConsistency(0, 10).ids).toEqual([]);
    expect(planConsistency(0, 10).fold(hasher, [])).toEqual([]);
    expect(planConsistency(7, 7).ids).toEqual([]);
    expect(planConsistency(0, 0).ids).toEqual([]);
  });

  it('rejects malformed requests and proofs', () => {
    expect(code(() => planConsistency(8, 7))).toBe('ERR_PROOF_INVALID');
    expect(code(() => planConsistency(-1, 7))).toBe('ERR_PROOF_INVALID');
    expect(code(() => planConsistency(1, 2 ** 60))).toBe('ERR_PROOF_INVALID');
    const root = mth(0, 4);
    // There is nothing to check from the empty tree, so a claim about it is refused.
    expect(code(() => verifyConsistency(hasher, 0, 4, [], hasher.emptyRoot(), root))).toBe('ERR_PROOF_INVALID');
    expect(code(() => verifyConsistency(hasher, 4, 4, [root], root, root))).toBe('ERR_PROOF_INVALID');
    expect(code(() => verifyConsistency(hasher, 4, 4, [], root, mth(0, 3)))).toBe('ERR_ROOT_MISMATCH');
    expect(code(() => verifyConsistency(hasher, 3, 4, [], mth(0, 3), root))).toBe('ERR_PROOF_INVALID');
    const proof = planConsistency(3, 4).fold(hasher, planConsistency(3, 4).ids.map(nodeHash));
    expect(code(() => verifyConsistency(hasher, 3, 4, [...proof.slice(1), new Uint8Array(32)], mth(0, 3), root))).toBe(
      'ERR_ROOT_MISMATCH',
    );
    expect(code(() => verifyConsistency(hasher, 3, 4, [new Uint8Array(0), ...proof], mth(0, 3), root))).toBe(
      'ERR_PROOF_INVALID',
    );
  });
});
