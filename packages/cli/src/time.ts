import { parseWhen as parse } from '@stele/store';
import { UsageError } from './usage.js';

/**
 * A point in time from RFC 3339 (`2026-11-27T10:00:00Z`) or a duration back
 * from now (`15m`, `2h`, `7d`), as epoch milliseconds; a usage error otherwise.
 */
export function parseWhen(flag: string, value: string, now: number): number {
  const when = parse(value, now);
  if (when === undefined) throw new UsageError(`--${flag} takes RFC 3339 (2026-11-27T10:00:00Z) or a duration (15m, 2h, 7d), not ${JSON.stringify(value)}`);
  return when;
}
