/**
 * Verifies an archive on its own, with nothing but read access and the log's
 * verifier key: the newest (or a chosen) archived checkpoint through the log
 * core's tlog-tiles verifier (its signature, every entry bundle, every hash
 * tile), then every other object the archive holds against that verified
 * tree: each older checkpoint's signature and root, the well-known
 * `checkpoint`, and each partial tile and bundle of older trees, which must
 * be a prefix of the verified one.
 *
 * Everything listed or read is hostile until checked: paths are parsed
 * strictly, notes are opened with the pinned key before they are parsed.
 */
import {
  CompactRange, LogError, TILE_WIDTH, entriesPath, equalBytes, fromUtf8, openNote, parseBundle, parseCheckpoint, parseTile,
  parseTilePath, tilePath, verifyTiledLog, type Hasher, type NoteVerifier, type ParsedPath,
} from '@stele/log';
import { LATEST_PATH, checkpointPath, parseCheckpointPath } from './layout.js';
import type { ArchiveReader } from './target.js';

/** Options of {@link verifyArchive}. */
export interface VerifyArchiveOptions {
  reader: ArchiveReader;
  /** The log's verifier key, pinned by the auditor. */
  verifier: NoteVerifier;
  hasher: Hasher;
  /** The expected origin; by default the verifier's name. */
  origin?: string;
  /** Verify as of this archived size; by default the newest. */
  size?: number;
  /** Entries verified of the tree's size. */
  onProgress?: (done: number, total: number) => void;
}

/** The outcome of {@link verifyArchive}. */
export type ArchiveVerification =
  | {
      ok: true;
      /** The verified tree's size and root (base64). */
      size: number;
      root: string;
      /** Archived checkpoints verified (signature and root). */
      checkpoints: number;
      /** Objects checked, checkpoints included. */
      objects: number;
      /** Tile files beyond the verified tree (left by an interrupted run, or newer than `size`): not checked. */
      pending: number;
      /** Paths that are not part of a tlog-tiles archive, ignored. */
      unknown: number;
    }
  | { ok: false; code: string; message: string; path?: string };

type TileParsed = Exclude<ParsedPath, { kind: 'checkpoint' }>;

const fail = (code: string, message: string, path?: string): ArchiveVerification => ({ ok: false, code, message, ...(path ? { path } : {}) });

/** Items of a tile row of level `level` in a tree of `size` leaves. */
const rowCount = (level: number, size: number) => Math.floor(size / TILE_WIDTH ** level);

/** The path of the verified tree's tile that an older tile of the same row and index must be a prefix of. */
function coveringPath(p: TileParsed, size: number): string | undefined {
  const level = p.kind === 'hash' ? p.tile.level : 0;
  const { index, width } = p.kind === 'hash' ? p.tile : p;
  const count = rowCount(level, size);
  if (index * TILE_WIDTH + width > count) return undefined; // beyond the tree
  const full = Math.min(TILE_WIDTH, count - index * TILE_WIDTH);
  return p.kind === 'hash' ? tilePath({ level, index, width: full }) : entriesPath(index, full);
}

/**
 * Verifies an archive. Resolves `ok: false` with the code of the first
 * failure (a log core code such as ERR_ROOT_MISMATCH or ERR_NOTE_UNVERIFIED,
 * or ERR_ARCHIVE_EMPTY / ERR_ARCHIVE_CORRUPT) and the path concerned.
 *
 * @throws ArchiveError `ERR_ARCHIVE_UNREACHABLE` when the archive cannot be read at all
 */
export async function verifyArchive(options: VerifyArchiveOptions): Promise<ArchiveVerification> {
  const { reader, verifier, hasher } = options;
  const origin = options.origin ?? verifier.name;
  const sizes: number[] = [];
  const tiles = new Map<string, TileParsed>();
  let hasLatest = false;
  let unknown = 0;
  for await (const path of reader.list()) {
    const size = parseCheckpointPath(path);
    if (size !== undefined) sizes.push(size);
    else if (path === LATEST_PATH) hasLatest = true;
    else {
      try {
        tiles.set(path, parseTilePath(path) as TileParsed);
      } catch {
        unknown++;
      }
    }
  }
  if (sizes.length === 0) return fail('ERR_ARCHIVE_EMPTY', `${reader.url} holds no checkpoints/<size>`);
  const size = options.size ?? Math.max(...sizes);
  if (!sizes.includes(size)) return fail('ERR_ARCHIVE_EMPTY', `${reader.url} has no ${checkpointPath(size)}`);

  /** Opens an archived note with the pinned key; the text is hostile until then. */
  async function open(path: string) {
    const bytes = await reader.read(path);
    if (bytes === undefined) throw new LogError('ERR_TILE_MALFORMED', `${path} was listed but cannot be read`);
    const note = fromUtf8(bytes);
    return { note, cp: parseCheckpoint((await openNote(note, [verifier])).text) };
  }

  try {
    // Roots at every size another checkpoint claims, recomputed from the entries as they stream by.
    const latest = hasLatest ? await open(LATEST_PATH) : undefined;
    const wanted = new Set([...sizes, ...(latest ? [latest.cp.size] : [])].filter((s) => s <= size));
    const roots = new Map<number, Uint8Array>();
    const range = CompactRange.empty(hasher);
    if (wanted.has(0)) roots.set(0, range.root());

    // The verified tree's tiles that older partial tiles must be prefixes of.
    const covering = new Map<string, Uint8Array | undefined>();
    for (const [path, parsed] of tiles) {
      const cover = coveringPath(parsed, size);
      if (cover !== undefined && cover !== path) covering.set(cover, undefined);
    }
    const fetched: string[] = [];
    const verified = await verifyTiledLog({
      verifier,
      hasher,
      origin,
      fetch: async (path) => {
        const bytes = await reader.read(path === 'checkpoint' ? checkpointPath(size) : path);
        if (bytes !== undefined) fetched.push(path);
        if (covering.has(path)) covering.set(path, bytes);
        return bytes;
      },
      onEntry: (index, entry) => {
        range.append(hasher.hashLeaf(entry));
        if (wanted.has(index + 1)) roots.set(index + 1, range.root());
        options.onProgress?.(index + 1, size);
      },
    });
    if (verified.size !== size) return fail('ERR_ARCHIVE_CORRUPT', `${checkpointPath(size)} holds a checkpoint of size ${verified.size}`, checkpointPath(size));
    let objects = fetched.length;

    let checkpoints = 1;
    for (const s of sizes) {
      if (s >= size) continue;
      const path = checkpointPath(s);
      const { cp } = await open(path);
      if (cp.origin !== origin || cp.size !== s) return fail('ERR_ARCHIVE_CORRUPT', `${path} holds ${cp.origin} at size ${cp.size}`, path);
      if (!equalBytes(cp.root, roots.get(s)!)) return fail('ERR_ROOT_MISMATCH', `${path} has another root than the archived entries`, path);
      checkpoints++;
      objects++;
    }
    if (latest && latest.cp.size <= size) {
      if (latest.cp.origin !== origin) return fail('ERR_ARCHIVE_CORRUPT', `${LATEST_PATH} names ${latest.cp.origin}`, LATEST_PATH);
      if (!equalBytes(latest.cp.root, roots.get(latest.cp.size)!)) return fail('ERR_ROOT_MISMATCH', `${LATEST_PATH} has another root than the archived entries`, LATEST_PATH);
      objects++;
    }

    let pending = 0;
    const verifiedPaths = new Set(fetched);
    for (const [path, parsed] of tiles) {
      if (verifiedPaths.has(path)) continue;
      const cover = coveringPath(parsed, size);
      if (cover === undefined) {
        pending++;
        continue;
      }
      const bytes = await reader.read(path);
      const whole = covering.get(cover);
      if (bytes === undefined || whole === undefined) return fail('ERR_TILE_MALFORMED', `${path} was listed but cannot be read`, path);
      // Well formed for its name (throws ERR_TILE_MALFORMED / ERR_BUNDLE_MALFORMED), and a prefix of the verified tile.
      try {
        if (parsed.kind === 'hash') parseTile(bytes, parsed.tile.width);
        else parseBundle(bytes, parsed.width);
      } catch (err) {
        if (err instanceof LogError) return fail(err.code, `${path}: ${err.message}`, path);
        throw err;
      }
      if (bytes.length > whole.length || !equalBytes(bytes, whole.subarray(0, bytes.length))) {
        return fail('ERR_ROOT_MISMATCH', `${path} is not a prefix of the verified ${cover}`, path);
      }
      objects++;
    }
    return { ok: true, size, root: verified.root, checkpoints, objects, pending, unknown };
  } catch (err) {
    if (err instanceof LogError) return fail(err.code, err.message);
    throw err;
  }
}
