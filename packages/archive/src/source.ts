/**
 * What the archive copies from: a log's size, the signed checkpoint that
 * covers it, and the bytes of each tile file. `logSource` adapts the store's
 * log service; tests hand in their own.
 */
import { TILE_HEIGHT, TILE_WIDTH, encodeBundle, encodeTile, equalBytes, openNote, parseCheckpoint, type Checkpoint, type NoteVerifier } from '@stele/log';
import type { Log } from '@stele/store';
import type { TileObject } from './layout.js';

/** A log as the archive sees it. */
export interface ArchiveSource {
  /** The log's origin (checkpoints name it). */
  readonly origin: string;
  /** The size and the signed checkpoint covering exactly it, read together. */
  head(): { size: number; checkpoint: string | undefined };
  /** The bytes of a tile file of a tree no larger than the current one. */
  read(object: TileObject): Promise<Uint8Array>;
  /** The RFC 6962 root of the tree of `size` leaves (at most the current size). */
  root(size: number): Promise<Uint8Array>;
}

/** The log service as an archive source (the same bytes `stele export` writes). */
export function logSource(log: Log): ArchiveSource {
  return {
    origin: log.origin,
    head: () => ({ size: log.size(), checkpoint: log.checkpoint() }),
    async read(object) {
      if (object.kind === 'entries') {
        const start = object.index * TILE_WIDTH;
        return encodeBundle((await log.driver.readEntries(start, start + object.width)).map((e) => e.bytes));
      }
      const { level, index, width } = object.tile;
      const start = index * TILE_WIDTH;
      return encodeTile(await log.driver.readHashes(level * TILE_HEIGHT, start, start + width));
    },
    root: (size) => log.root(size),
  };
}

/** How a checkpoint found beside a log's copy (an archive, an export) stands to the log. */
export type CheckpointStanding =
  /** The log extends it: signed by the log's key, for its origin, at a size it has, with its root there. */
  | { kind: 'extended'; checkpoint: Checkpoint }
  /** Not a checkpoint signed by the log's key. */
  | { kind: 'unsigned' }
  /** Signed by the key, for another origin. */
  | { kind: 'other-origin'; checkpoint: Checkpoint }
  /** Larger than the log: the log was rolled back, or is an older copy. */
  | { kind: 'ahead'; checkpoint: Checkpoint }
  /** Another root than the log's at its size: the log forked from it. */
  | { kind: 'forked'; checkpoint: Checkpoint };

/**
 * Whether the log behind `source` (`size` entries) extends `note`, which is
 * hostile until the log's key has verified it.
 */
export async function checkpointStanding(source: ArchiveSource, verifier: NoteVerifier, note: string, size: number): Promise<CheckpointStanding> {
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint((await openNote(note, [verifier])).text);
  } catch {
    return { kind: 'unsigned' };
  }
  if (checkpoint.origin !== source.origin) return { kind: 'other-origin', checkpoint };
  if (checkpoint.size > size) return { kind: 'ahead', checkpoint };
  if (!equalBytes(await source.root(checkpoint.size), checkpoint.root)) return { kind: 'forked', checkpoint };
  return { kind: 'extended', checkpoint };
}
