/**
 * Test support for the archive's unit tests: a real log in a temporary
 * directory, grown on demand, and the code of a failure. Not exported from
 * the package.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initStore, openStore, type Store } from '@stele/store';
import type { ArchiveError } from './errors.js';

/** A log in a temporary directory. */
export interface TestLog {
  store: Store;
  dir: string;
  /** Appends `n` events (in batches of at most 500). */
  grow(n: number): Promise<void>;
  /** Closes the log and removes the directory. */
  remove(): Promise<void>;
}

/** Creates a log with origin `origin` holding `size` events. */
export async function testLog(size: number, origin = 'example.com/archive-test'): Promise<TestLog> {
  const dir = mkdtempSync(join(tmpdir(), 'stele-archive-'));
  await initStore(dir, origin);
  const store = await openStore(dir);
  let next = 0;
  const grow = async (n: number) => {
    for (let left = n; left > 0; left -= 500) {
      const events = Array.from({ length: Math.min(500, left) }, () => ({
        source: 'emacs', action: 'file.save', time: '2026-11-27T10:00:00.000Z',
        actor: { email: `user${next % 3}@example.com` }, target: { type: 'file', id: `/home/u/f${next++}.el` },
      }));
      await store.log.append(events);
    }
  };
  await grow(size);
  return {
    store, dir, grow,
    async remove() {
      await store.log.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The code of the ArchiveError `promise` rejects with; undefined if it resolves. */
export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    return (err as ArchiveError).code;
  }
  return undefined;
}
