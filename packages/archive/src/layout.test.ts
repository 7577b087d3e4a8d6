import { expect, test } from 'vitest';
import { bundlesForSize, entriesPath, tilePath, tilesForSize } from '@stele/log';
import { checkpointPath, isObjectOf, objectsBetween, parseCheckpointPath } from './layout.js';

const allPaths = (size: number) => new Set([...bundlesForSize(size).map((b) => entriesPath(b.index, b.width)), ...tilesForSize(size).map(tilePath)]);

test('from 0, a tree has exactly the files of stele export', () => {
  for (const size of [0, 1, 255, 256, 257, 700, 65535, 65536, 65537, 70_000]) {
    const paths = objectsBetween(0, size).map((o) => o.path);
    expect(new Set(paths).size).toBe(paths.length);
    expect(new Set(paths)).toEqual(allPaths(size));
  }
});

test('between two sizes: exactly the files the larger tree has and the smaller lacks', () => {
  const sizes = [0, 1, 2, 255, 256, 257, 511, 512, 513, 700, 65535, 65536, 65537, 66_000];
  for (const from of sizes) {
    for (const to of sizes) {
      if (to < from) continue;
      const expected = [...allPaths(to)].filter((p) => !allPaths(from).has(p));
      expect(new Set(objectsBetween(from, to).map((o) => o.path)), `${from} -> ${to}`).toEqual(new Set(expected));
    }
  }
});

test('entry bundles come before hash tiles', () => {
  const kinds = objectsBetween(0, 1000).map((o) => o.kind);
  expect(kinds.lastIndexOf('entries')).toBeLessThan(kinds.indexOf('hash'));
});

test('checkpoint paths parse only in their canonical decimal spelling', () => {
  expect(parseCheckpointPath(checkpointPath(0))).toBe(0);
  expect(parseCheckpointPath(checkpointPath(1234))).toBe(1234);
  for (const bad of ['checkpoints/', 'checkpoints/01', 'checkpoints/1a', 'checkpoints/-1', 'checkpoints/1/2', 'checkpoint', 'tile/0/000', 'checkpoints/99999999999999999']) {
    expect(parseCheckpointPath(bad), bad).toBeUndefined();
  }
});

test('isObjectOf agrees with the file set of each size', () => {
  const candidates = objectsBetween(0, 70_000);
  for (const size of [0, 1, 255, 256, 257, 700, 65535, 65536, 65537, 70_000]) {
    const paths = allPaths(size);
    for (const o of candidates) expect({ size, path: o.path, is: isObjectOf(o, size) }).toEqual({ size, path: o.path, is: paths.has(o.path) });
  }
});
