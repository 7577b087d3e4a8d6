/**
 * An in-memory target that behaves as an S3 bucket with Object Lock: every
 * write is kept as a version, `create` never replaces one, nothing is ever
 * removed. For tests and dry runs; it records every call it receives.
 */
import { ArchiveError } from './errors.js';
import type { ArchiveTarget, Lock, WormStatus } from './target.js';

/** One call a memory target received. */
export interface MemoryCall {
  op: 'list' | 'read' | 'create' | 'publish';
  path?: string;
  /** For create: what it answered. */
  result?: 'created' | 'exists';
  lock?: Lock;
}

/** A memory target and what it holds. */
export interface MemoryTarget extends ArchiveTarget {
  /** Every version of every path, oldest first. */
  readonly versions: Map<string, Uint8Array[]>;
  readonly calls: MemoryCall[];
  /** Makes the next `create` calls fail once `after` more have succeeded (a crash mid-archive). */
  failAfter(after: number): void;
}

/** Options of {@link openMemoryTarget}. */
export interface MemoryTargetOptions {
  status?: WormStatus;
  /** Whether it offers `publish` (default true). */
  publish?: boolean;
}

/** Makes an empty memory target. */
export function openMemoryTarget(options: MemoryTargetOptions = {}): MemoryTarget {
  const versions = new Map<string, Uint8Array[]>();
  const calls: MemoryCall[] = [];
  let budget = Infinity;
  const current = (path: string) => versions.get(path)?.at(-1);
  const target: MemoryTarget = {
    url: 'memory://archive/',
    versions,
    calls,
    failAfter(after) {
      budget = after;
    },
    inspect: async () => options.status ?? { versioning: true, objectLock: true },
    async *list() {
      calls.push({ op: 'list' });
      yield* [...versions.keys()];
    },
    async read(path) {
      calls.push({ op: 'read', path });
      return current(path)?.slice();
    },
    async create(path, bytes, lock) {
      if (budget-- <= 0) throw new ArchiveError('ERR_ARCHIVE_WRITE', `injected failure writing ${path}`);
      const there = current(path);
      if (there !== undefined) {
        if (Buffer.compare(there, bytes) !== 0) throw new ArchiveError('ERR_ARCHIVE_CONFLICT', `${path} exists with other content`);
        calls.push({ op: 'create', path, result: 'exists', ...(lock ? { lock } : {}) });
        return 'exists';
      }
      versions.set(path, [bytes.slice()]);
      calls.push({ op: 'create', path, result: 'created', ...(lock ? { lock } : {}) });
      return 'created';
    },
    async close() {},
  };
  if (options.publish !== false) {
    target.publish = async (path, bytes, lock) => {
      calls.push({ op: 'publish', path, ...(lock ? { lock } : {}) });
      versions.set(path, [...(versions.get(path) ?? []), bytes.slice()]);
    };
  }
  return target;
}
