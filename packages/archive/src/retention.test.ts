import { expect, test } from 'vitest';
import { ArchiveError } from './errors.js';
import { checkWorm, lockFor } from './retention.js';

const locked = { versioning: true, objectLock: true };
const NOW = Date.UTC(2026, 0, 1);
const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as ArchiveError).code;
  }
  return undefined;
};

test('a bucket without versioning or Object Lock is refused unless explicitly allowed', () => {
  expect(code(() => checkWorm({ versioning: false, objectLock: false }, 's3://b/'))).toBe('ERR_ARCHIVE_NOT_WORM');
  expect(code(() => checkWorm({ versioning: true, objectLock: false }, 's3://b/'))).toBe('ERR_ARCHIVE_NOT_WORM');
  expect(code(() => checkWorm({ versioning: false, objectLock: true }, 's3://b/'))).toBe('ERR_ARCHIVE_NOT_WORM');
  expect(code(() => checkWorm(locked, 's3://b/'))).toBeUndefined();
  expect(code(() => checkWorm({ versioning: false, objectLock: false }, 's3://b/', true))).toBeUndefined();
  expect(code(() => checkWorm({ versioning: false, objectLock: false, unverifiable: true }, 'file:///w'))).toBeUndefined();
});

test('the configured retention wins; else the bucket default; else refused', () => {
  const withDefault = { ...locked, defaultRetention: { mode: 'GOVERNANCE' as const, days: 30 } };
  expect(lockFor({ retentionDays: 2, mode: 'COMPLIANCE' }, withDefault, NOW)).toEqual({ mode: 'COMPLIANCE', retainUntil: new Date(NOW + 2 * 86_400_000) });
  expect(lockFor({}, withDefault, NOW)).toEqual({ mode: 'GOVERNANCE', retainUntil: new Date(NOW + 30 * 86_400_000) });
  expect(lockFor({ retentionDays: 5 }, locked, NOW)).toEqual({ mode: 'COMPLIANCE', retainUntil: new Date(NOW + 5 * 86_400_000) });
  expect(code(() => lockFor({}, locked, NOW))).toBe('ERR_ARCHIVE_RETENTION');
  for (const bad of [0, -1, 1.5, 36_501]) expect(code(() => lockFor({ retentionDays: bad }, locked, NOW))).toBe('ERR_ARCHIVE_RETENTION');
});

test('no lock on an unlocked development bucket; a directory takes the days it is given', () => {
  expect(lockFor({ retentionDays: 3 }, { versioning: false, objectLock: false }, NOW)).toBeUndefined();
  expect(lockFor({}, { versioning: false, objectLock: false, unverifiable: true }, NOW)).toBeUndefined();
  expect(lockFor({ retentionDays: 1 }, { versioning: false, objectLock: false, unverifiable: true }, NOW)?.retainUntil).toEqual(new Date(NOW + 86_400_000));
});
