import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { equalBytes, utf8 } from './bytes.js';
import { CompactRange, foldNodes, hashNodes, subtreeNodes, type NodeId } from './compactRange.js';
import { LogError } from './errors.js';
import { createHasher } from './hasher.js';

const hasher = createHasher((d) => new Uint8Array(hash('sha256', d, 'buffer')));
const MAX = 2000;
const leaves = Array.from({ length: MAX }, (_, i) => hasher.hashLeaf(utf8(`leaf ${i}`)));

/** MTH(D[start:end]) straight from RFC 6962 section 2.1, memoised across runs. */
const memo = new Map<string, Uint8Array>();
function mth(start: number, end: number): Uint8Array {
  const n = end - start;
  if (n === 0) return hasher.emptyRoot();
  if (n === 1) return leaves[start]!;
  const key = `${start}:${end}`;
  let h = memo.get(key);
  if (!h) {
    let k = 1;
    while (k * 2 < n) k *= 2;
    h = hasher.hashChildren(mth(start, start + k), mth(start + k, end));
    memo.set(key, h);
  }
  return h;
}

function build(size: number, visit?: (level: number, index: number, hash: Uint8Array) => void): CompactRange {
  const range = CompactRange.empty(hasher);
  for (let i = 0; i < size; i++) range.append(leaves[i]!, visit);
  return range;
}

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof LogError ? e.code : 'not a LogError';
  }
  return 'no error';
};

describe('subtreeNodes', () => {
  it('covers [0, size) with one subtree per set bit, largest first', () => {
    expect(CompactRange.nodesFor(0)).toEqual([]);
    expect(CompactRange.nodesFor(1)).toEqual([{ level: 0, index: 0 }]);
    expect(CompactRange.nodesFor(13)).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(CompactRange.nodesFor(2 ** 40 + 1)).toEqual([
      { level: 40, index: 0 },
      { level: 0, index: 2 ** 40 },
    ]);
  });

  it('covers an arbitrary range with aligned subtrees', () => {
    expect(subtreeNodes(5, 13)).toEqual([
      { level: 0, index: 5 },
      { level: 1, index: 3 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    fc.assert(
      fc.property(fc.nat(2 ** 50), fc.nat(10_000), (start, length) => {
        let at = start;
        for (const { level, index } of subtreeNodes(start, start + length)) {
          expect(index * 2 ** level).toBe(at);
          at += 2 ** level;
        }
        expect(at).toBe(start + length);
      }),
    );
  });

  it('rejects invalid ranges', () => {
    expect(code(() => subtreeNodes(3, 2))).toBe('ERR_PROOF_INVALID');
    expect(code(() => subtreeNodes(-1, 2))).toBe('ERR_PROOF_INVALID');
    expect(code(() => subtreeNodes(0, 2 ** 53))).toBe('ERR_PROOF_INVALID');
    expect(code(() => subtreeNodes(0, 1.5))).toBe('ERR_PROOF_INVALID');
  });
});

describe('CompactRange', () => {
  it('has the empty root at size 0', () => {
    const range = CompactRange.empty(hasher);
    expect(range.size).toBe(0);
    expect(range.root()).toEqual(hasher.emptyRoot());
    expect(range.nodes()).toEqual([]);
  });

  it('computes the RFC 6962 root for any size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX }), (size) => {
        const range = build(size);
        expect(range.size).toBe(size);
        expect(range.root()).toEqual(mth(0, size));
      }),
      { numRuns: 60 },
    );
  });

  it('reports every complete node exactly once, bottom-up, with its hash', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX }), (size) => {
        const seen: NodeId[] = [];
        const wrong: string[] = [];
        build(size, (level, index, h) => {
          const prev = seen.at(-1);
          // Each append starts at its leaf and climbs one level at a time.
          if (level > 0 && (prev?.level !== level - 1 || prev.index !== index * 2 + 1)) wrong.push(`order ${level}/${index}`);
          if (!equalBytes(h, mth(index * 2 ** level, (index + 1) * 2 ** level))) wrong.push(`hash ${level}/${index}`);
          seen.push({ level, index });
        });
        expect(wrong).toEqual([]);
        const want: string[] = [];
        for (let level = 0; 2 ** level <= size; level++) {
          for (let index = 0; index < Math.floor(size / 2 ** level); index++) want.push(`${level}/${index}`);
        }
        expect(seen.map((n) => `${n.level}/${n.index}`).sort()).toEqual(want.sort());
      }),
      { numRuns: 30 },
    );
  });

  it('round-trips through nodes() and fromNodes()', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX - 50 }), fc.integer({ min: 0, max: 50 }), (size, more) => {
        const range = build(size);
        const nodes = range.nodes();
        expect(nodes).toEqual(CompactRange.nodesFor(size).map(({ level, index }) => mth(index * 2 ** level, (index + 1) * 2 ** level)));
        const rebuilt = CompactRange.fromNodes(hasher, size, nodes);
        for (let i = size; i < size + more; i++) rebuilt.append(leaves[i]!);
        expect(rebuilt.root()).toEqual(mth(0, size + more));
      }),
      { numRuns: 40 },
    );
  });

  it('rejects the wrong number or size of nodes', () => {
    const nodes = build(13).nodes();
    expect(code(() => CompactRange.fromNodes(hasher, 13, nodes.slice(1)))).toBe('ERR_PROOF_INVALID');
    expect(code(() => CompactRange.fromNodes(hasher, 12, nodes))).toBe('ERR_PROOF_INVALID');
    expect(code(() => CompactRange.fromNodes(hasher, 13, [nodes[0]!, nodes[1]!, new Uint8Array(31)]))).toBe(
      'ERR_PROOF_INVALID',
    );
    expect(code(() => CompactRange.fromNodes(hasher, -1, []))).toBe('ERR_PROOF_INVALID');
  });

  it('clones independently and hands out copies', () => {
    const a = build(5);
    const b = a.clone();
    b.append(leaves[5]!);
    expect(a.size).toBe(5);
    expect(a.root()).toEqual(mth(0, 5));
    expect(b.root()).toEqual(mth(0, 6));
    a.nodes()[0]!.fill(0);
    a.root().fill(0);
    expect(a.root()).toEqual(mth(0, 5));
  });

  it('does not alias the caller leaf hash', () => {
    const leaf = leaves[0]!.slice();
    const range = CompactRange.empty(hasher);
    range.append(leaf);
    leaf.fill(0);
    expect(range.root()).toEqual(leaves[0]);
  });

  it('rejects a leaf hash of the wrong size', () => {
    expect(() => CompactRange.empty(hasher).append(new Uint8Array(31))).toThrow(TypeError);
  });
});

describe('foldNodes and hashNodes', () => {
  it('fold an aligned range into its Merkle tree hash', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), fc.nat(), fc.nat(), (k, a, b) => {
        const width = 2 ** k;
        const start = (a % Math.floor(MAX / width)) * width;
        const end = start + 1 + (b % Math.min(width, MAX - start));
        const hashes = subtreeNodes(start, end).map(({ level, index }) => mth(index * 2 ** level, (index + 1) * 2 ** level));
        expect(foldNodes(hasher, hashes)).toEqual(mth(start, end));
      }),
    );
    expect(foldNodes(hasher, [])).toEqual(hasher.emptyRoot());
  });

  it('hash consecutive same-level nodes as the leaves of a tree', () => {
    // 128 level-3 nodes below one level-10 node, as the store folds them.
    const level3 = Array.from({ length: 128 }, (_, i) => mth(i * 8, i * 8 + 8));
    expect(hashNodes(hasher, level3)).toEqual(mth(0, 1024));
    expect(hashNodes(hasher, level3.slice(0, 100))).toEqual(mth(0, 800));
    expect(hashNodes(hasher, [])).toEqual(hasher.emptyRoot());
  });
});
