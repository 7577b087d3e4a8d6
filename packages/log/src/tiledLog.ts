/**
 * A verifying client of a C2SP tlog-tiles log: given only a way to fetch the
 * log's files (`checkpoint`, `tile/...`, `tile/entries/...`) and the log's
 * verifier key, it checks the signed checkpoint, recomputes the tree from
 * every entry bundle, and compares every hash tile byte for byte. Everything
 * fetched is hostile until it has been recomputed from checked data.
 */
import { equalBytes, fromUtf8, toBase64 } from './bytes.js';
import { parseCheckpoint } from './checkpoint.js';
import { CompactRange } from './compactRange.js';
import { LogError } from './errors.js';
import type { Hasher } from './hasher.js';
import { openNote, type NoteVerifier } from './note.js';
import { TILE_WIDTH, bundlesForSize, encodeTile, entriesPath, parseBundle, tilePath, tilesForSize } from './tile.js';

/** Fetches one file of the log by its path (`checkpoint`, `tile/0/000`, ...); undefined when absent. */
export type TileFetcher = (path: string) => Promise<Uint8Array | undefined>;

/** What a tiled log verified to: its checkpoint and each entry's bytes on request. */
export interface VerifiedTiledLog {
  origin: string;
  size: number;
  root: string;
  /** The signed checkpoint as fetched. */
  checkpoint: string;
}

/** Options of {@link verifyTiledLog}. */
export interface TiledLogOptions {
  fetch: TileFetcher;
  verifier: NoteVerifier;
  hasher: Hasher;
  /** The expected origin; by default the verifier's name. */
  origin?: string;
  /** Called with each entry once its bundle is fetched (before the root is known to match). */
  onEntry?: (index: number, entry: Uint8Array) => void;
}

async function need(fetch: TileFetcher, path: string): Promise<Uint8Array> {
  const bytes = await fetch(path);
  if (bytes === undefined) throw new LogError('ERR_TILE_MALFORMED', `the log has no ${path}`);
  return bytes;
}

/**
 * Verifies a whole tiled log: the checkpoint's signature and origin, then
 * every entry bundle and hash tile against a tree recomputed from the
 * entries, then the recomputed root against the checkpoint's.
 *
 * @throws LogError ERR_NOTE_UNVERIFIED, ERR_CHECKPOINT_MALFORMED, ERR_TILE_MALFORMED,
 *   ERR_BUNDLE_MALFORMED, or RootMismatchError-style ERR_ROOT_MISMATCH naming the file that differs
 */
export async function verifyTiledLog(options: TiledLogOptions): Promise<VerifiedTiledLog> {
  const { fetch, verifier, hasher } = options;
  const note = fromUtf8(await need(fetch, 'checkpoint'));
  const cp = await naming('checkpoint', async () => parseCheckpoint((await openNote(note, [verifier])).text));
  const origin = options.origin ?? verifier.name;
  if (cp.origin !== origin) throw new LogError('ERR_CHECKPOINT_MALFORMED', `the checkpoint's origin is ${cp.origin}, not ${origin}`);

  // Hashes of tile level L (tree level 8L), recomputed from the entries.
  const levels: Uint8Array[][] = [[]];
  const range = CompactRange.empty(hasher);
  const keep = (level: number, index: number, hash: Uint8Array) => {
    if (level % 8 !== 0) return;
    const tileLevel = level / 8;
    (levels[tileLevel] ??= [])[index] = hash;
  };
  for (const bundle of bundlesForSize(cp.size)) {
    const path = entriesPath(bundle.index, bundle.width);
    const bytes = await need(fetch, path);
    const entries = await naming(path, async () => parseBundle(bytes, bundle.width));
    entries.forEach((entry, i) => {
      const index = bundle.index * TILE_WIDTH + i;
      options.onEntry?.(index, entry);
      range.append(hasher.hashLeaf(entry), keep);
    });
  }
  if (!equalBytes(range.root(), cp.root)) {
    const where = await firstDisagreement(fetch, cp.size, levels);
    throw new LogError('ERR_ROOT_MISMATCH', `the entries hash to ${toBase64(range.root())}, not the checkpoint's root ${toBase64(cp.root)}; ${where}`);
  }
  for (const tile of tilesForSize(cp.size)) {
    const path = tilePath(tile);
    const start = tile.index * TILE_WIDTH;
    const expected = encodeTile(levels[tile.level]!.slice(start, start + tile.width));
    if (!equalBytes(await need(fetch, path), expected)) throw new LogError('ERR_ROOT_MISMATCH', `${path} differs from the tree of the entries`);
  }
  return { origin: cp.origin, size: cp.size, root: toBase64(cp.root), checkpoint: note };
}

/** Runs `read`, its LogError (same code) naming the file it is about. */
async function naming<T>(path: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof LogError) throw new LogError(err.code, `${path}: ${err.message}`);
    throw err;
  }
}

/**
 * Where entries whose tree is not the checkpoint's first disagree with the
 * log's own hash tiles (an edit of the entries alone leaves those as they
 * were), level 0 first: the entries the differing hash covers and their
 * bundles. Only on that failure; a tile that is absent is passed over.
 */
async function firstDisagreement(fetch: TileFetcher, size: number, levels: Uint8Array[][]): Promise<string> {
  for (const tile of tilesForSize(size)) {
    const path = tilePath(tile);
    const served = await fetch(path).catch(() => undefined);
    if (served === undefined) continue;
    const start = tile.index * TILE_WIDTH;
    for (let k = 0; k < tile.width; k++) {
      const hash = levels[tile.level]![start + k]!;
      if (served.length >= 32 * (k + 1) && equalBytes(served.subarray(32 * k, 32 * (k + 1)), hash)) continue;
      const span = TILE_WIDTH ** tile.level;
      const first = (start + k) * span;
      const last = Math.min(size, first + span) - 1;
      const bundles = bundlesForSize(size).filter((b) => b.index * TILE_WIDTH <= last && (b.index + 1) * TILE_WIDTH > first).map((b) => entriesPath(b.index, b.width));
      const entries = first === last ? `entry ${first}` : `entries ${first} to ${last}`;
      const held = bundles.length === 1 ? bundles[0]! : `${bundles[0]!} to ${bundles[bundles.length - 1]!}`;
      return `the first that differ from the log's hash tiles: ${entries} (${held}) ${first === last ? 'does' : 'do'} not give hash ${k} of ${path}`;
    }
  }
  return 'every hash tile agrees with the entries: the tiles were rewritten with them';
}
