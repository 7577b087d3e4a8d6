/**
 * What an archive holds, by path under its prefix: the C2SP tlog-tiles files
 * of `stele export` (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`), one
 * immutable `checkpoints/<size>` per archived tree, and optionally the newest
 * checkpoint again at the well-known `checkpoint`.
 *
 * Every path but `checkpoint` names content that never changes: a full tile
 * is the same bytes in every later tree, and a partial one is named by its
 * width. So an archive grows by adding paths, never by changing one.
 */
import { TILE_WIDTH, entriesPath, tilePath, type TileId } from '@stele/log';

/** The well-known path of the newest checkpoint (tlog-tiles clients read it). */
export const LATEST_PATH = 'checkpoint';
/** Where the archived checkpoints live, one per size. */
export const CHECKPOINTS_DIR = 'checkpoints/';

/** One file of the tiles of a tree: a hash tile or an entry bundle. */
export type TileObject =
  | { kind: 'hash'; path: string; tile: TileId }
  | { kind: 'entries'; path: string; index: number; width: number };

/** An object's URL for messages: an S3 archive's URL ends in `/` (its prefix), a directory's does not. */
export function objectUrl(archiveUrl: string, path: string): string {
  return archiveUrl.endsWith('/') ? `${archiveUrl}${path}` : `${archiveUrl}/${path}`;
}

/** The path of the archived checkpoint of a tree of `size` leaves. */
export function checkpointPath(size: number): string {
  return `${CHECKPOINTS_DIR}${size}`;
}

const DECIMAL = /^(?:0|[1-9]\d{0,15})$/;

/**
 * The size a `checkpoints/<size>` path names, or undefined for any other
 * path. Paths come from a bucket listing (hostile): only the canonical
 * decimal spelling counts.
 */
export function parseCheckpointPath(path: string): number | undefined {
  if (!path.startsWith(CHECKPOINTS_DIR)) return undefined;
  const digits = path.slice(CHECKPOINTS_DIR.length);
  if (!DECIMAL.test(digits)) return undefined;
  const size = Number(digits);
  return Number.isSafeInteger(size) ? size : undefined;
}

/** The tiles of one row of `count` items that a tree of `count` has but one of `before` lacks. */
function newInRow(before: number, count: number): { index: number; width: number }[] {
  const out: { index: number; width: number }[] = [];
  if (count <= before) return out;
  // The tile holding item `before` changes (it was partial or absent); every tile after it is new.
  for (let index = Math.floor(before / TILE_WIDTH); index * TILE_WIDTH < count; index++) {
    out.push({ index, width: Math.min(TILE_WIDTH, count - index * TILE_WIDTH) });
  }
  return out;
}

/**
 * The tile files of a tree of `size` leaves that a tree of `from` leaves does
 * not have (all of them when `from` is 0): entry bundles first, then hash
 * tiles by level. Computing only, no I/O; about (size - from) / 255 items.
 *
 * @param from - a smaller or equal tree size, whose files are already archived
 * @param size - the tree size to archive
 */
export function objectsBetween(from: number, size: number): TileObject[] {
  const out: TileObject[] = [];
  for (const { index, width } of newInRow(from, size)) out.push({ kind: 'entries', path: entriesPath(index, width), index, width });
  for (let level = 0, f = from, n = size; n > 0; level++, f = Math.floor(f / TILE_WIDTH), n = Math.floor(n / TILE_WIDTH)) {
    for (const { index, width } of newInRow(f, n)) {
      const tile = { level, index, width };
      out.push({ kind: 'hash', path: tilePath(tile), tile });
    }
  }
  return out;
}

/**
 * True when `object` is one of the tile files of a tree of `size` leaves
 * (the same file set as `objectsBetween(0, size)`), computed without listing them.
 */
export function isObjectOf(object: TileObject, size: number): boolean {
  const level = object.kind === 'hash' ? object.tile.level : 0;
  const { index, width } = object.kind === 'hash' ? object.tile : object;
  const count = Math.floor(size / TILE_WIDTH ** level);
  return index * TILE_WIDTH < count && width === Math.min(TILE_WIDTH, count - index * TILE_WIDTH);
}
