/**
 * The collector's continuous archive (`[archive]` in the configuration,
 * docs/ARCHIVE.md): checks at start that the target is write-once, then runs
 * the archive's copy cycle at the configured cadence and a last time at
 * shutdown. The copying itself lives in @stele/archive.
 */
import type { FastifyBaseLogger } from 'fastify';
import {
  ArchiveError, checkWorm, createArchiver, isLockMode, lockFor, logSource, openArchive, parseArchiveUrl, startArchiveTask,
  MAX_RETENTION_DAYS, type ArchiveTarget, type ArchiveTask, type LockMode, type RetentionSettings,
} from '@stele/archive';
import type { Store } from '@stele/store';

/** The `[archive]` settings. */
export interface ArchiveConfig {
  /** `s3://bucket/prefix` or `file:///path`; empty: no archive. */
  to: string;
  /** Seconds between the end of one cycle and the start of the next. */
  cadenceSeconds: number;
  /** `COMPLIANCE` or `GOVERNANCE`; empty: the bucket's default mode, else COMPLIANCE. */
  mode: string;
  /** Days each object is retained from its write; 0: the bucket's default retention. */
  retentionDays: number;
  /** Also publish the newest checkpoint at the well-known `checkpoint` key (S3 only). */
  latest: boolean;
  /** Archive to a bucket without versioning or Object Lock (development stores only). */
  allowUnlocked: boolean;
  /** An S3-compatible endpoint; empty: AWS. */
  endpoint: string;
  /** The bucket's region; empty: the AWS SDK's (AWS_REGION, profiles). */
  region: string;
  /** Path-style addressing; implied by an endpoint. */
  pathStyle: boolean;
}

/** Defaults: off; a cycle every 5 minutes; retention from the bucket; the well-known checkpoint on. */
export const DEFAULT_ARCHIVE_CONFIG: ArchiveConfig = {
  to: '', cadenceSeconds: 300, mode: '', retentionDays: 0, latest: true, allowUnlocked: false, endpoint: '', region: '', pathStyle: false,
};

/** What is wrong with the settings, or undefined (checked when the configuration is resolved). */
export function archiveConfigProblem(config: ArchiveConfig): string | undefined {
  if (config.to !== '') {
    try {
      parseArchiveUrl(config.to);
    } catch (err) {
      return `archive.to: ${(err as Error).message}`;
    }
  }
  if (config.mode !== '' && !isLockMode(config.mode)) return `archive.mode must be COMPLIANCE or GOVERNANCE, not ${JSON.stringify(config.mode)}`;
  if (!Number.isSafeInteger(config.retentionDays) || config.retentionDays < 0 || config.retentionDays > MAX_RETENTION_DAYS) {
    return `archive.retentionDays must be a whole number from 0 (the bucket's default) to ${MAX_RETENTION_DAYS}`;
  }
  if (!Number.isSafeInteger(config.cadenceSeconds) || config.cadenceSeconds < 1 || config.cadenceSeconds > 86_400) {
    return 'archive.cadenceSeconds must be a whole number from 1 to 86400';
  }
  return undefined;
}

/** A running archive of the collector's log. */
export interface CollectorArchive {
  /** Stops the cadence; with `final`, runs a last cycle so the archive ends where the log does. */
  close(final: boolean): Promise<void>;
}

/**
 * Opens the target, refuses one that is not write-once (or has no retention),
 * and starts the cadence; the first cycle starts at once, in the background.
 *
 * @throws ArchiveError ERR_ARCHIVE_URL, ERR_ARCHIVE_UNREACHABLE, ERR_ARCHIVE_NOT_WORM, ERR_ARCHIVE_RETENTION
 */
export async function startArchive(config: ArchiveConfig, store: Store, log: FastifyBaseLogger): Promise<CollectorArchive> {
  const target: ArchiveTarget = openArchive(config.to, {
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.region ? { region: config.region } : {}),
    pathStyle: config.pathStyle || config.endpoint !== '',
  });
  let task: ArchiveTask;
  try {
    const status = await target.inspect();
    checkWorm(status, target.url, config.allowUnlocked);
    const settings: RetentionSettings = {
      ...(config.mode ? { mode: config.mode as LockMode } : {}),
      ...(config.retentionDays > 0 ? { retentionDays: config.retentionDays } : {}),
    };
    lockFor(settings, status, Date.now()); // refuse a missing retention at start, not at the first write
    if (!status.objectLock && !status.unverifiable) log.warn({ archive: target.url }, 'archiving without Object Lock: copies, not a WORM archive');
    const archiver = createArchiver({
      source: logSource(store.log),
      target,
      verifier: store.verifier,
      lock: (now) => lockFor(settings, status, now),
      latest: config.latest,
    });
    task = startArchiveTask({
      archiver,
      cadenceMs: config.cadenceSeconds * 1000,
      onCycle: (c) => {
        if (c.created > 0) log.info({ archive: { to: target.url, size: c.size, created: c.created, existing: c.existing } }, 'archived');
      },
      onError: (err) => log.error({ err, code: (err as ArchiveError).code, archive: target.url }, 'archive cycle failed; retrying at the next cycle'),
    });
  } catch (err) {
    await target.close();
    throw err;
  }
  return {
    async close(final) {
      if (final) await task.stop();
      else await task.cancel();
      await target.close();
    },
  };
}
