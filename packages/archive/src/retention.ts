/**
 * Checking that a store is write-once before writing to it, and the Object
 * Lock every write carries: from the configuration, else from the store's
 * own default retention; never none on a store that has Object Lock.
 */
import { ArchiveError } from './errors.js';
import type { Lock, LockMode, WormStatus } from './target.js';

/** What the configuration says about retention; each value falls back to the store's default. */
export interface RetentionSettings {
  mode?: LockMode;
  /** Whole days from each write (1 to 36,500). */
  retentionDays?: number;
}

/** The longest retention S3 accepts, about 100 years. */
export const MAX_RETENTION_DAYS = 36_500;
const DAY_MS = 86_400_000;

/** True for the two Object Lock modes. */
export function isLockMode(value: unknown): value is LockMode {
  return value === 'COMPLIANCE' || value === 'GOVERNANCE';
}

/**
 * Refuses a store that is not write-once: S3 without versioning or without
 * Object Lock. `allowUnlocked` lets development stores through (MinIO without
 * Object Lock, a plain directory): they then hold copies, not a WORM archive.
 *
 * @throws ArchiveError `ERR_ARCHIVE_NOT_WORM` naming what is missing
 */
export function checkWorm(status: WormStatus, where: string, allowUnlocked = false): void {
  if (status.unverifiable || allowUnlocked) return;
  const missing = [...(status.versioning ? [] : ['versioning']), ...(status.objectLock ? [] : ['Object Lock'])];
  if (missing.length > 0) {
    throw new ArchiveError('ERR_ARCHIVE_NOT_WORM', `${where} does not have ${missing.join(' or ')} enabled, so archived objects could be overwritten or deleted; create the bucket with Object Lock (deploy/terraform), or pass --allow-unlocked for a development store`);
  }
}

/**
 * The lock for writes starting at `now`: the configured mode and days, else
 * the store's default retention, else COMPLIANCE mode. Undefined on a store
 * without Object Lock (allowed only by `allowUnlocked`), and on a directory
 * without configured days.
 *
 * @throws ArchiveError `ERR_ARCHIVE_RETENTION` when the store has Object Lock
 *   but neither the configuration nor the store gives the days, or the days are out of range
 */
export function lockFor(settings: RetentionSettings, status: WormStatus, now: number): Lock | undefined {
  const days = settings.retentionDays ?? status.defaultRetention?.days;
  if (days !== undefined && (!Number.isSafeInteger(days) || days < 1 || days > MAX_RETENTION_DAYS)) {
    throw new ArchiveError('ERR_ARCHIVE_RETENTION', `the retention is a whole number of days from 1 to ${MAX_RETENTION_DAYS}, not ${days}`);
  }
  const mode = settings.mode ?? status.defaultRetention?.mode ?? 'COMPLIANCE';
  if (status.unverifiable) return days === undefined ? undefined : { mode, retainUntil: new Date(now + days * DAY_MS) };
  if (!status.objectLock) return undefined;
  if (days === undefined) {
    throw new ArchiveError('ERR_ARCHIVE_RETENTION', 'no retention: give the days (--retention-days, archive.retentionDays) or set a default retention on the bucket');
  }
  return { mode, retainUntil: new Date(now + days * DAY_MS) };
}
