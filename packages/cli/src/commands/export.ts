import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { checkpointStanding, isObjectOf, logSource, objectsBetween, type ArchiveSource, type TileObject } from '@stele/archive';
import { equalBytes, parseCheckpoint, parseNote, utf8, type NoteVerifier } from '@stele/log';
import { makeDirectory, openStore } from '@stele/store';
import { EXIT, type Io } from '../io.js';
import { plural } from '../text.js';
import { DIR_OPTION, UsageError, dataDir, parse } from '../usage.js';

/** A checkpoint note is a few hundred bytes; anything far larger is not one. */
const MAX_CHECKPOINT_BYTES = 64 * 1024;

/**
 * `stele export [--dir D] --out DIR [--json]`: write the log as static C2SP
 * tlog-tiles files. Every tile path names immutable content, so a re-run
 * writes only what is new; the checkpoint is written last, atomically.
 *
 * DIR must hold nothing but an earlier export of this very log: a
 * `DIR/checkpoint` signed by this log's key, for its origin, at a size the log
 * has, with the log's root there; and no file where this log would write other
 * bytes. Anything else (another log's tiles, a rolled-back or forked copy of
 * this log) is refused before anything is written.
 */
export async function exportTiles(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { ...DIR_OPTION, out: { type: 'string' }, json: { type: 'boolean' } });
  if (!values.out) throw new UsageError('--out DIR is required');
  const out = resolve(io.cwd, values.out);
  checkOutPath(out);
  const store = await openStore(dataDir(io, values.dir), { mode: 'read' });
  try {
    const { log } = store;
    const size = log.size();
    const checkpoint = log.checkpoint();
    if (checkpoint === undefined) throw new UsageError('the log is empty: nothing to export');
    const source = logSource(log);
    const refuse = (why: string) => new UsageError(`${out}: ${why}; nothing written`);

    // Every check first: a refusal leaves DIR as it was.
    const exported = await checkExported(out, source, store.verifier, size, refuse);
    const missing: TileObject[] = [];
    let skipped = 0;
    for (const object of objectsBetween(0, size)) {
      const file = join(out, object.path);
      if (!existsSync(file)) {
        missing.push(object);
        continue;
      }
      skipped++;
      // What the verified checkpoint covers was written by an export of this log; anything else is compared.
      if (exported !== undefined && isObjectOf(object, exported.size)) continue;
      if (!equalBytes(readBytes(file), await source.read(object))) {
        const whose = exported === undefined ? 'another log\'s export, or a damaged one' : `damaged or written by something else: its checkpoint is this log's at size ${exported.size}, which does not cover this file`;
        throw refuse(`${object.path} holds other bytes than this log's file at that path: the directory holds ${whose}`);
      }
    }

    let written = 0;
    for (const object of missing) {
      writeAtomically(join(out, object.path), await source.read(object));
      written++;
    }
    if (exported?.note === checkpoint) skipped++;
    else {
      writeAtomically(join(out, 'checkpoint'), utf8(checkpoint));
      written++;
    }
    if (values.json) io.stdout(JSON.stringify({ out, size, written, skipped }) + '\n');
    else io.stdout(`exported ${size} entries to ${out}: ${plural(written, 'file')} written, ${skipped} already there\n`);
    return EXIT.ok;
  } finally {
    await store.log.close();
  }
}

/**
 * Reads `DIR/checkpoint`, if there is one, and checks that this log may
 * extend it: signed by the log's key, for its origin, at a size the log has,
 * with the log's root at that size. Returns its size and text.
 */
async function checkExported(
  out: string,
  source: ArchiveSource,
  verifier: NoteVerifier,
  size: number,
  refuse: (why: string) => UsageError,
): Promise<{ size: number; note: string } | undefined> {
  const file = join(out, 'checkpoint');
  if (!existsSync(file)) return undefined;
  const stat = statSync(file);
  if (!stat.isFile() || stat.size > MAX_CHECKPOINT_BYTES) throw refuse('checkpoint is not a signed checkpoint');
  const note = readText(file);
  const standing = await checkpointStanding(source, verifier, note, size);
  const anotherLog = (origin: string) => refuse(`it holds the tiles of another log: its checkpoint names ${origin}, this log is ${source.origin}`);
  switch (standing.kind) {
    case 'unsigned': {
      const claimed = claimedOrigin(note);
      if (claimed === undefined) throw refuse('checkpoint is not a signed checkpoint');
      if (claimed !== source.origin) throw anotherLog(claimed);
      throw refuse(`its checkpoint names ${claimed} but is not signed by this log's key (another log with the same origin?)`);
    }
    case 'other-origin':
      throw anotherLog(standing.checkpoint.origin);
    case 'ahead':
      throw refuse(`its checkpoint covers ${standing.checkpoint.size} entries but this log holds ${size}: the log was rolled back, or is an older copy of the one exported there`);
    case 'forked':
      throw refuse(`its checkpoint at size ${standing.checkpoint.size} has another root than this log (${size} entries) at that size: the log has forked from what was exported`);
    case 'extended':
      return { size: standing.checkpoint.size, note };
  }
}

/** The origin an unverified note claims, to name it in a refusal; undefined when it is no checkpoint at all. */
function claimedOrigin(note: string): string | undefined {
  try {
    return parseCheckpoint(parseNote(note).text).origin;
  } catch {
    return undefined;
  }
}

/** Refuses an --out that is, or lies under, something other than a directory: named at once, not at the first tile. */
function checkOutPath(out: string): void {
  for (let at = out; ; at = dirname(at)) {
    let stat;
    try {
      stat = statSync(at);
    } catch {
      if (dirname(at) === at) return;
      continue;
    }
    if (!stat.isDirectory()) throw new UsageError(`--out ${out}: ${at} is not a directory`);
    return;
  }
}

function readBytes(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`--out: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function readText(file: string): string {
  return new TextDecoder().decode(readBytes(file));
}

function writeAtomically(file: string, bytes: Uint8Array): void {
  try {
    makeDirectory(dirname(file), 0o755);
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined) throw err;
    throw new UsageError(`--out: cannot write ${file}: ${code}`);
  }
}
