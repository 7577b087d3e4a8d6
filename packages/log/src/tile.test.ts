import { hash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { equalBytes, fromBase64, utf8 } from './bytes.js';
import { CompactRange } from './compactRange.js';
import { LogError } from './errors.js';
import { createHasher } from './hasher.js';
import {
  MAX_ENTRY_SIZE,
  TILE_HEIGHT,
  TILE_WIDTH,
  bundlesForSize,
  encodeBundle,
  encodeTile,
  entriesPath,
  parseBundle,
  parseTile,
  parseTilePath,
  tilePath,
  tilesForSize,
  type TileId,
} from './tile.js';
import { vectorsDir } from './testVectors.js';

const hasher = createHasher((d) => new Uint8Array(hash('sha256', d, 'buffer')));

const tlogVectors = vectorsDir('tlog');

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof LogError ? e.code : 'not a LogError';
  }
  return 'no error';
};

describe('tilePath and entriesPath', () => {
  it('write the index in x-prefixed 3-digit groups', () => {
    expect(tilePath({ level: 0, index: 1234067, width: 256 })).toBe('tile/0/x001/x234/067');
    expect(tilePath({ level: 1, index: 1234067, width: 17 })).toBe('tile/1/x001/x234/067.p/17');
    expect(tilePath({ level: 0, index: 0, width: 256 })).toBe('tile/0/000');
    expect(tilePath({ level: 2, index: 999, width: 1 })).toBe('tile/2/999.p/1');
    expect(tilePath({ level: 63, index: 1000, width: 255 })).toBe('tile/63/x001/000.p/255');
    expect(tilePath({ level: 0, index: 1000000, width: 256 })).toBe('tile/0/x001/x000/000');
    expect(entriesPath(273, 112)).toBe('tile/entries/273.p/112');
    expect(entriesPath(5, 256)).toBe('tile/entries/005');
  });

  it('refuse ids out of range', () => {
    const bad: TileId[] = [
      { level: 0, index: 0, width: 0 },
      { level: 0, index: 0, width: 257 },
      { level: 64, index: 0, width: 256 },
      { level: -1, index: 0, width: 256 },
      { level: 0, index: -1, width: 256 },
      { level: 0, index: 1.5, width: 256 },
      { level: 0, index: 2 ** 53, width: 256 },
    ];
    for (const tile of bad) expect(code(() => tilePath(tile)), JSON.stringify(tile)).toBe('ERR_TILE_MALFORMED');
    expect(code(() => entriesPath(0, 0))).toBe('ERR_TILE_MALFORMED');
  });
});

describe('parseTilePath', () => {
  it('parses the three kinds of resource', () => {
    expect(parseTilePath('checkpoint')).toEqual({ kind: 'checkpoint' });
    expect(parseTilePath('tile/0/x001/x234/067')).toEqual({ kind: 'hash', tile: { level: 0, index: 1234067, width: 256 } });
    expect(parseTilePath('tile/1/001.p/17')).toEqual({ kind: 'hash', tile: { level: 1, index: 1, width: 17 } });
    expect(parseTilePath('tile/entries/273.p/112')).toEqual({ kind: 'entries', index: 273, width: 112 });
    expect(parseTilePath('tile/entries/x001/000')).toEqual({ kind: 'entries', index: 1000, width: 256 });
  });

  it('round-trips every tile and bundle id', () => {
    const ids = fc.record({
      level: fc.integer({ min: 0, max: 63 }),
      index: fc.oneof(fc.nat(5000), fc.maxSafeNat()),
      width: fc.integer({ min: 1, max: 256 }),
    });
    fc.assert(
      fc.property(ids, (tile) => {
        expect(parseTilePath(tilePath(tile))).toEqual({ kind: 'hash', tile });
        expect(parseTilePath(entriesPath(tile.index, tile.width))).toEqual({ kind: 'entries', index: tile.index, width: tile.width });
      }),
    );
  });

  it('rejects every non-canonical or hostile path', () => {
    const bad = [
      '',
      'checkpoint/',
      '/checkpoint',
      'Checkpoint',
      'tile',
      'tile/',
      'tile/0',
      'tile/0/',
      '/tile/0/000',
      'tile/0/000/',
      'tile//000',
      'tile/0//000',
      'TILE/0/000',
      'tiles/0/000',
      'tile/00/000',
      'tile/01/000',
      'tile/64/000',
      'tile/100/000',
      'tile/-1/000',
      'tile/+1/000',
      'tile/ 0/000',
      'tile/0x1/000',
      'tile/0/00',
      'tile/0/0000',
      'tile/0/1',
      'tile/0/+01',
      'tile/0/-01',
      'tile/0/0 1',
      'tile/0/x001',
      'tile/0/001/002',
      'tile/0/001/x002',
      'tile/0/x1/000',
      'tile/0/X001/000',
      'tile/0/x000/001',
      'tile/0/x000/x001/000',
      'tile/0/x009/x007/x199/x254/x740/x992/000',
      'tile/0/000.p',
      'tile/0/000.p/',
      'tile/0/000.p/0',
      'tile/0/000.p/00',
      'tile/0/000.p/012',
      'tile/0/000.p/256',
      'tile/0/000.p/1000',
      'tile/0/000.p/1/',
      'tile/0/000.p/1/2',
      'tile/0/000.p/+1',
      'tile/0/000.P/1',
      'tile/0/000.p.p/1',
      'tile/0/x001.p/1/000',
      'tile/0/.p/1',
      'tile/0/../000',
      'tile/0/./000',
      'tile/../0/000',
      'tile/0/000/..',
      'tile/0/000%2F',
      'tile/0/000\\',
      'tile/0/٠٠٠',
      'tile/entries',
      'tile/entries/',
      'tile/entries/1',
      'tile/entries/000.p/0',
      'tile/entries/000.p/256',
      'tile/entries/x000/000',
      'tile/entries/entries/000',
      'tile/0/entries/000',
    ];
    for (const path of bad) expect(code(() => parseTilePath(path)), path).toBe('ERR_TILE_MALFORMED');
  });
});

describe('tilesForSize and bundlesForSize', () => {
  it('name full tiles and the final partial tile of each level', () => {
    expect(tilesForSize(0)).toEqual([]);
    expect(tilesForSize(1)).toEqual([{ level: 0, index: 0, width: 1 }]);
    expect(tilesForSize(256)).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 1, index: 0, width: 1 },
    ]);
    expect(tilesForSize(65536).filter((t) => t.level > 0)).toEqual([
      { level: 1, index: 0, width: 256 },
      { level: 2, index: 0, width: 1 },
    ]);
    // The worked example of the spec: 273 full level-0 tiles, one partial of
    // width 112, one full level-1 tile, one partial of 17, one level-2 of 1.
    const tiles = tilesForSize(70000);
    expect(tiles.filter((t) => t.level === 0 && t.width === 256)).toHaveLength(273);
    expect(tiles.filter((t) => t.level > 0 || t.width < 256)).toEqual([
      { level: 0, index: 273, width: 112 },
      { level: 1, index: 0, width: 256 },
      { level: 1, index: 1, width: 17 },
      { level: 2, index: 0, width: 1 },
    ]);
  });

  it('give level L exactly floor(size / 256^L) hashes', () => {
    fc.assert(
      fc.property(fc.nat(10_000_000), (size) => {
        const tiles = tilesForSize(size);
        for (let level = 0; level < 4; level++) {
          const total = tiles.filter((t) => t.level === level).reduce((n, t) => n + t.width, 0);
          expect(total).toBe(Math.floor(size / TILE_WIDTH ** level));
        }
      }),
      { numRuns: 30 },
    );
  });

  it('name the bundles of the entries', () => {
    expect(bundlesForSize(0)).toEqual([]);
    expect(bundlesForSize(256)).toEqual([{ index: 0, width: 256 }]);
    expect(bundlesForSize(257)).toEqual([
      { index: 0, width: 256 },
      { index: 1, width: 1 },
    ]);
    expect(code(() => bundlesForSize(-1))).toBe('ERR_TILE_MALFORMED');
    expect(code(() => tilesForSize(2 ** 53))).toBe('ERR_TILE_MALFORMED');
  });
});

describe('entry bundles', () => {
  it('round-trip', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 40 }), (entries) => {
        expect(parseBundle(encodeBundle(entries), entries.length)).toEqual(entries);
      }),
    );
  });

  it('prefix each entry with a big-endian uint16 length', () => {
    expect(encodeBundle([utf8('ab'), new Uint8Array(0)])).toEqual(Uint8Array.of(0, 2, 0x61, 0x62, 0, 0));
    const largest = new Uint8Array(MAX_ENTRY_SIZE).fill(9);
    const encoded = encodeBundle([largest]);
    expect(encoded.subarray(0, 2)).toEqual(Uint8Array.of(0xff, 0xff));
    expect(parseBundle(encoded)).toEqual([largest]);
  });

  it('refuse entries over 65,535 bytes', () => {
    expect(code(() => encodeBundle([new Uint8Array(MAX_ENTRY_SIZE + 1)]))).toBe('ERR_ENTRY_TOO_LARGE');
  });

  it('reject truncation and the wrong count', () => {
    expect(parseBundle(new Uint8Array(0))).toEqual([]);
    expect(code(() => parseBundle(Uint8Array.of(0)))).toBe('ERR_BUNDLE_MALFORMED');
    expect(code(() => parseBundle(Uint8Array.of(0, 5, 1, 2)))).toBe('ERR_BUNDLE_MALFORMED');
    expect(code(() => parseBundle(Uint8Array.of(0, 1, 7, 0)))).toBe('ERR_BUNDLE_MALFORMED');
    expect(code(() => parseBundle(Uint8Array.of(0, 1, 7), 2))).toBe('ERR_BUNDLE_MALFORMED');
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 50 }), { minLength: 1, maxLength: 10 }), fc.nat(), (entries, cut) => {
        const bytes = encodeBundle(entries);
        const at = cut % bytes.length;
        // Any strict prefix either fails or holds fewer entries.
        let parsed: Uint8Array[] = [];
        try {
          parsed = parseBundle(bytes.subarray(0, at));
        } catch (e) {
          expect((e as LogError).code).toBe('ERR_BUNDLE_MALFORMED');
        }
        expect(parsed.length).toBeLessThan(entries.length);
      }),
    );
  });
});

describe('hash tiles', () => {
  const hashes = Array.from({ length: 3 }, (_, i) => hasher.hashLeaf(Uint8Array.of(i)));

  it('round-trip', () => {
    const bytes = encodeTile(hashes);
    expect(bytes).toHaveLength(96);
    expect(parseTile(bytes, 3)).toEqual(hashes);
  });

  it('reject the wrong width, length or hash size', () => {
    expect(code(() => parseTile(encodeTile(hashes), 2))).toBe('ERR_TILE_MALFORMED');
    expect(code(() => parseTile(new Uint8Array(95), 3))).toBe('ERR_TILE_MALFORMED');
    expect(code(() => parseTile(new Uint8Array(0), 0))).toBe('ERR_TILE_MALFORMED');
    expect(code(() => parseTile(new Uint8Array(257 * 32), 257))).toBe('ERR_TILE_MALFORMED');
    expect(code(() => encodeTile([]))).toBe('ERR_TILE_MALFORMED');
    expect(code(() => encodeTile(Array.from({ length: 257 }, () => hashes[0]!)))).toBe('ERR_TILE_MALFORMED');
    expect(code(() => encodeTile([hashes[0]!, new Uint8Array(31)]))).toBe('ERR_TILE_MALFORMED');
  });
});

/** Every file under dir, as '/'-separated paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(`${dir}/${f}`).isFile())
    .map((f) => f.replaceAll('\\', '/'))
    .sort();
}

describe('tlog vectors (written by Go sumdb/tlog)', () => {
  const logs = readdirSync(tlogVectors).filter((name) => /^size-\d+$/.test(name));
  it('finds the vectors', () => expect(logs.length).toBeGreaterThanOrEqual(6));

  for (const name of logs) {
    it(`${name}: reproduces every tile, bundle and the root`, () => {
      const size = Number(name.slice('size-'.length));
      const dir = `${tlogVectors}${name}/`;
      const entries = Array.from({ length: size }, (_, i) => utf8(`{"i":${i},"action":"file.save"}`));

      // Keep what the store keeps: the hashes of tree levels 0, 8, 16, ...
      const rows: Uint8Array[][] = [];
      const range = CompactRange.empty(hasher);
      for (const entry of entries) {
        range.append(hasher.hashLeaf(entry), (level, index, h) => {
          if (level % TILE_HEIGHT === 0) (rows[level / TILE_HEIGHT] ??= [])[index] = h;
        });
      }

      const [origin, sizeLine, rootLine] = readFileSync(`${dir}checkpoint`, 'utf8').split('\n');
      expect(origin).toBe(`example.com/vectors/${size}`);
      expect(sizeLine).toBe(String(size));
      expect(range.root()).toEqual(fromBase64(rootLine!));

      const files = filesUnder(`${dir}tile`).map((f) => `tile/${f}`);
      const named = [
        ...tilesForSize(size).map(tilePath),
        ...bundlesForSize(size).map((b) => entriesPath(b.index, b.width)),
      ].sort();
      expect(files).toEqual(named);

      const wrong: string[] = [];
      for (const path of files) {
        const bytes = new Uint8Array(readFileSync(dir + path));
        const parsed = parseTilePath(path);
        if (parsed.kind === 'hash') {
          const { level, index, width } = parsed.tile;
          const start = index * TILE_WIDTH;
          const want = encodeTile(rows[level]!.slice(start, start + width));
          if (!equalBytes(bytes, want)) wrong.push(path);
          if (!equalBytes(encodeTile(parseTile(bytes, width)), bytes)) wrong.push(`${path} (parse)`);
        } else if (parsed.kind === 'entries') {
          const start = parsed.index * TILE_WIDTH;
          const slice = entries.slice(start, start + parsed.width);
          if (!equalBytes(bytes, encodeBundle(slice))) wrong.push(path);
          const back = parseBundle(bytes, parsed.width);
          if (!back.every((e, i) => equalBytes(e, slice[i]!))) wrong.push(`${path} (parse)`);
        } else {
          wrong.push(`${path} (unexpected kind)`);
        }
      }
      expect(wrong).toEqual([]);
    });
  }
});
