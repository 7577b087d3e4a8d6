/**
 * C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tile and entry-bundle paths,
 * which tiles a tree of a given size has, and the tile and bundle encodings.
 *
 * Paths and bundles arrive from the network and from disk: they are parsed
 * strictly, accepting only the one canonical spelling of each resource.
 */
import { LogError } from './errors.js';

/** Tree levels per tile: a level-L tile holds hashes of tree level 8L. */
export const TILE_HEIGHT = 8;
/** Hashes in a full tile (2^TILE_HEIGHT), and entries in a full bundle. */
export const TILE_WIDTH = 256;
/** The largest entry a bundle can hold (a uint16 length prefix). */
export const MAX_ENTRY_SIZE = 65535;

const HASH_SIZE = 32;
const MAX_LEVEL = 63;

/** A hash tile: `width` hashes (1..256; 256 is a full tile) starting at hash `index * 256` of tile level `level`. */
export interface TileId {
  level: number;
  index: number;
  width: number;
}

/** What a path under a log's prefix names. */
export type ParsedPath =
  | { kind: 'hash'; tile: TileId }
  | { kind: 'entries'; index: number; width: number }
  | { kind: 'checkpoint' };

function malformed(message: string): LogError {
  return new LogError('ERR_TILE_MALFORMED', message);
}

const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
const isWidth = (w: number): boolean => Number.isInteger(w) && w >= 1 && w <= TILE_WIDTH;

/** `<N>[.p/<W>]`: 3-digit groups, all but the last prefixed with `x`. */
function indexPath(index: number, width: number): string {
  if (!isCount(index)) throw malformed(`invalid tile index ${index}`);
  if (!isWidth(width)) throw malformed(`invalid tile width ${width}`);
  const digits = String(index);
  const padded = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const groups = padded.match(/\d{3}/g)!;
  const n = groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
  return width === TILE_WIDTH ? n : `${n}.p/${width}`;
}

/**
 * The path of a hash tile: `tile/<L>/<N>[.p/<W>]`.
 *
 * @throws LogError `ERR_TILE_MALFORMED` when the level, index or width is out of range.
 */
export function tilePath(tile: TileId): string {
  if (!Number.isInteger(tile.level) || tile.level < 0 || tile.level > MAX_LEVEL) {
    throw malformed(`invalid tile level ${tile.level}`);
  }
  return `tile/${tile.level}/${indexPath(tile.index, tile.width)}`;
}

/**
 * The path of an entry bundle: `tile/entries/<N>[.p/<W>]`.
 *
 * @throws LogError `ERR_TILE_MALFORMED` when the index or width is out of range.
 */
export function entriesPath(index: number, width: number): string {
  return `tile/entries/${indexPath(index, width)}`;
}

const LEVEL = /^(0|[1-9]\d?)$/;
const PARTIAL_WIDTH = /^[1-9]\d{0,2}$/;

/** Parses `<N>[.p/<W>]` split on '/'; rejects every non-canonical spelling. */
function parseIndex(parts: readonly string[]): { index: number; width: number } {
  let groups = parts;
  let width = TILE_WIDTH;
  const last = parts[parts.length - 2];
  if (last?.endsWith('.p')) {
    const w = parts[parts.length - 1]!;
    if (!PARTIAL_WIDTH.test(w) || Number(w) >= TILE_WIDTH) throw malformed(`invalid partial width ${JSON.stringify(w)}`);
    width = Number(w);
    groups = [...parts.slice(0, -2), last.slice(0, -2)];
  }
  if (groups.length === 0) throw malformed('missing tile index');
  let digits = '';
  groups.forEach((g, i) => {
    const ok = i < groups.length - 1 ? /^x\d{3}$/.test(g) : /^\d{3}$/.test(g);
    if (!ok) throw malformed(`invalid index element ${JSON.stringify(g)}`);
    digits += i < groups.length - 1 ? g.slice(1) : g;
  });
  // Only the shortest spelling is canonical: x000/001 would alias 001.
  if (groups.length > 1 && groups[0] === 'x000') throw malformed('index has a leading zero group');
  const index = Number(digits);
  if (!Number.isSafeInteger(index)) throw malformed('tile index is too large');
  return { index, width };
}

/**
 * Parses a path relative to a log's prefix: `checkpoint`, a hash tile or an
 * entry bundle. The path is hostile input (it may come from a URL): anything
 * but the canonical form is rejected, including `..`, empty or extra
 * segments, leading zeros, level above 63 and partial widths outside 1..255.
 *
 * @throws LogError `ERR_TILE_MALFORMED` when the path is not canonical.
 */
export function parseTilePath(path: string): ParsedPath {
  if (path === 'checkpoint') return { kind: 'checkpoint' };
  const parts = path.split('/');
  if (parts[0] !== 'tile' || parts.length < 3) throw malformed(`not a tile path: ${JSON.stringify(path)}`);
  const kind = parts[1]!;
  if (kind === 'entries') return { kind: 'entries', ...parseIndex(parts.slice(2)) };
  if (!LEVEL.test(kind) || Number(kind) > MAX_LEVEL) throw malformed(`invalid tile level ${JSON.stringify(kind)}`);
  return { kind: 'hash', tile: { level: Number(kind), ...parseIndex(parts.slice(2)) } };
}

/** The full tiles and the final partial one of a row of `count` items. */
function row(count: number): { index: number; width: number }[] {
  const out: { index: number; width: number }[] = [];
  const full = Math.floor(count / TILE_WIDTH);
  for (let index = 0; index < full; index++) out.push({ index, width: TILE_WIDTH });
  if (count % TILE_WIDTH !== 0) out.push({ index: full, width: count % TILE_WIDTH });
  return out;
}

/**
 * Every hash tile of a tree of `size` leaves, by level then index: the full
 * tiles and the final partial tile of each level. Level L has
 * `floor(size / 256^L)` hashes. The list has about size / 255 items, so
 * callers that walk a very large tree should page through levels themselves.
 *
 * @throws LogError `ERR_TILE_MALFORMED` unless `size` is a non-negative safe integer.
 */
export function tilesForSize(size: number): TileId[] {
  if (!isCount(size)) throw malformed(`invalid tree size ${size}`);
  const tiles: TileId[] = [];
  for (let level = 0, count = size; count > 0; level++, count = Math.floor(count / TILE_WIDTH)) {
    for (const t of row(count)) tiles.push({ level, ...t });
  }
  return tiles;
}

/**
 * Every entry bundle of a tree of `size` leaves: the full bundles and the
 * final partial one.
 *
 * @throws LogError `ERR_TILE_MALFORMED` unless `size` is a non-negative safe integer.
 */
export function bundlesForSize(size: number): { index: number; width: number }[] {
  if (!isCount(size)) throw malformed(`invalid tree size ${size}`);
  return row(size);
}

/**
 * Encodes an entry bundle: each entry as a big-endian uint16 length, then its bytes.
 *
 * @throws LogError `ERR_ENTRY_TOO_LARGE` when an entry exceeds 65,535 bytes.
 */
export function encodeBundle(entries: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_SIZE) throw new LogError('ERR_ENTRY_TOO_LARGE', `entry of ${e.length} bytes exceeds ${MAX_ENTRY_SIZE}`);
    length += 2 + e.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const e of entries) {
    out[at] = e.length >> 8;
    out[at + 1] = e.length & 0xff;
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out;
}

/**
 * Decodes an entry bundle into copies of its entries. The bytes are hostile
 * input: every length is checked against what remains.
 *
 * @param width - when given, the number of entries the bundle must hold.
 * @throws LogError `ERR_BUNDLE_MALFORMED` on truncation or a wrong entry count.
 */
export function parseBundle(bytes: Uint8Array, width?: number): Uint8Array[] {
  const entries: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) throw new LogError('ERR_BUNDLE_MALFORMED', 'truncated entry length');
    const length = (bytes[at]! << 8) | bytes[at + 1]!;
    at += 2;
    if (at + length > bytes.length) throw new LogError('ERR_BUNDLE_MALFORMED', 'truncated entry');
    entries.push(bytes.slice(at, at + length));
    at += length;
  }
  if (width !== undefined && entries.length !== width) {
    throw new LogError('ERR_BUNDLE_MALFORMED', `bundle holds ${entries.length} entries, expected ${width}`);
  }
  return entries;
}

/**
 * Encodes a hash tile: the hashes concatenated.
 *
 * @throws LogError `ERR_TILE_MALFORMED` unless there are 1..256 hashes of 32 bytes.
 */
export function encodeTile(hashes: readonly Uint8Array[]): Uint8Array {
  if (!isWidth(hashes.length)) throw malformed(`a tile holds 1..${TILE_WIDTH} hashes, got ${hashes.length}`);
  const out = new Uint8Array(hashes.length * HASH_SIZE);
  hashes.forEach((h, i) => {
    if (h.length !== HASH_SIZE) throw malformed(`tile hashes must be ${HASH_SIZE} bytes`);
    out.set(h, i * HASH_SIZE);
  });
  return out;
}

/**
 * Decodes a hash tile of `width` hashes into copies of them. The bytes are
 * hostile input: the length must be exactly `width * 32`.
 *
 * @throws LogError `ERR_TILE_MALFORMED` when the width or the length is wrong.
 */
export function parseTile(bytes: Uint8Array, width: number): Uint8Array[] {
  if (!isWidth(width)) throw malformed(`invalid tile width ${width}`);
  if (bytes.length !== width * HASH_SIZE) throw malformed(`a tile of width ${width} is ${width * HASH_SIZE} bytes, got ${bytes.length}`);
  const hashes: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += HASH_SIZE) hashes.push(bytes.slice(at, at + HASH_SIZE));
  return hashes;
}
