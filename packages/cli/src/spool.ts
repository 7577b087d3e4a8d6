import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A spool directory of events waiting for the collector: one JSON file per
 * event, written atomically (temporary name, then rename), delivered in name
 * order and removed only once the collector acknowledged them. A lock file
 * keeps two deliveries (a hook's background one and a user's) from sending
 * the same files at once; events carry deterministic ids, so a file sent
 * twice after a crash is a duplicate, not a second event.
 */

/** How long a lock may be held before it is taken as abandoned (a killed delivery). */
const STALE_LOCK_MS = 120_000;

/** Adds an event to the spool; returns the file's name. */
export function spoolEvent(dir: string, event: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const name = `${Date.now().toString().padStart(15, '0')}-${randomBytes(6).toString('hex')}.json`;
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, JSON.stringify(event) + '\n', { mode: 0o600 });
  renameSync(tmp, join(dir, name));
  return name;
}

/** The spooled files, oldest first. */
export function spooled(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
  } catch {
    return [];
  }
}

/** Reads a spooled event (undefined when it is gone or not JSON). */
export function readSpooled(dir: string, name: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Removes delivered files. */
export function unspool(dir: string, names: readonly string[]): void {
  for (const name of names) rmSync(join(dir, name), { force: true });
}

/** Moves files the collector refused for good to `rejected/`, kept for a person to look at. */
export function reject(dir: string, names: readonly string[]): void {
  mkdirSync(join(dir, 'rejected'), { recursive: true, mode: 0o700 });
  for (const name of names) renameSync(join(dir, name), join(dir, 'rejected', name));
}

/**
 * Takes the spool's lock, waiting up to `waitMs` for another holder; returns
 * the release function, or undefined when the lock stayed taken.
 */
export async function lockSpool(dir: string, waitMs: number): Promise<(() => void) | undefined> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, '.lock');
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      closeSync(openSync(path, 'wx', 0o600));
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_LOCK_MS) rmSync(path, { force: true });
    } catch {
      // released meanwhile: try again
    }
    if (Date.now() >= until) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
}
