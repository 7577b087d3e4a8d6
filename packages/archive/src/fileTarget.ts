/**
 * The directory target, for a mounted WORM volume (NetApp SnapLock, Dell
 * PowerScale SmartLock and the like, which commit a file to WORM when its
 * write permission is removed and take the retention date from its atime).
 *
 * Each file is written under a temporary name, flushed to disk, then linked
 * to its final name (`link` fails when the name exists, so nothing is ever
 * replaced), and only then committed: atime set to the retain-until date and
 * mode 0444. Directories stay writable, since later runs add files to them;
 * the volume, not Stele, is what makes a committed file immutable.
 */
import { randomBytes } from 'node:crypto';
import { chmod, link, lstat, open, readFile, readdir, stat, unlink, utimes } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { makeDirectory } from '@stele/store';
import { ArchiveError } from './errors.js';
import type { ArchiveTarget, Lock } from './target.js';

/** Temporary files carry this in their name; they are never part of the archive. */
const TMP_MARK = '.stele-tmp-';

/** Options of {@link openFileTarget}. */
export interface FileTargetOptions {
  /** The archive's directory (absolute); it must exist (a mounted volume). */
  path: string;
}

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException)?.code;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Opens a directory as an archive target. */
export function openFileTarget(options: FileTargetOptions): ArchiveTarget {
  const root = options.path;
  const url = `file://${root}`;
  const file = (path: string) => join(root, ...path.split('/'));

  async function read(path: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(file(path)));
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return undefined;
      throw new ArchiveError('ERR_ARCHIVE_UNREACHABLE', `cannot read ${path} in ${url}: ${errno(err) ?? (err as Error).message}`, { cause: err });
    }
  }

  /** Commits a complete file: its retention date as atime (the WORM volumes' convention), then read-only. */
  async function commit(target: string, lock: Lock | undefined): Promise<void> {
    if (lock) await utimes(target, lock.retainUntil, new Date());
    await chmod(target, 0o444);
  }

  async function *walk(dir: string): AsyncGenerator<string> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw new ArchiveError('ERR_ARCHIVE_UNREACHABLE', `cannot list ${url}: ${errno(err) ?? (err as Error).message}`, { cause: err });
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) yield* walk(full);
      else if (entry.isFile() && !entry.name.includes(TMP_MARK)) yield relative(root, full).split(sep).join('/');
    }
  }

  return {
    url,
    async inspect() {
      let info;
      try {
        info = await stat(root);
      } catch (err) {
        throw new ArchiveError('ERR_ARCHIVE_UNREACHABLE', `${root} does not exist (mount the WORM volume first): ${errno(err)}`, { cause: err });
      }
      if (!info.isDirectory()) throw new ArchiveError('ERR_ARCHIVE_UNREACHABLE', `${root} is not a directory`);
      // A mounted volume cannot be asked whether it is WORM: the operator vouches for it.
      return { versioning: false, objectLock: false, unverifiable: true };
    },
    list: () => walk(root),
    read,
    async create(path, bytes, lock) {
      const target = file(path);
      const tmp = join(dirname(target), `${TMP_MARK}${process.pid}-${randomBytes(6).toString('hex')}`);
      try {
        makeDirectory(dirname(target), 0o755);
        const handle = await open(tmp, 'wx', 0o600);
        try {
          await handle.writeFile(bytes);
          await handle.sync();
        } finally {
          await handle.close();
        }
        try {
          await link(tmp, target); // fails with EEXIST rather than replace
        } catch (err) {
          if (errno(err) !== 'EEXIST') throw err;
          const there = await read(path);
          if (there === undefined || !sameBytes(there, bytes)) {
            throw new ArchiveError('ERR_ARCHIVE_CONFLICT', `${url}/${path} exists with other content than the log's`);
          }
          // Complete but perhaps not committed (a crash between link and chmod): commit it now.
          if (((await lstat(target)).mode & 0o222) !== 0) await commit(target, lock);
          return 'exists';
        }
        await commit(target, lock);
        await syncDir(dirname(target));
        return 'created';
      } catch (err) {
        if (err instanceof ArchiveError) throw err;
        throw new ArchiveError('ERR_ARCHIVE_WRITE', `cannot write ${path} to ${url}: ${errno(err) ?? (err as Error).message}`, { cause: err });
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
    },
    async close() {},
  };
}

/** Makes a new directory entry durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
