import { parseTime } from '@stele/log';
import { UsageError } from './usage.js';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A point in time from RFC 3339 (`2026-11-27T10:00:00Z`) or a duration back
 * from now (`15m`, `2h`, `7d`), as epoch milliseconds.
 */
export function parseWhen(flag: string, value: string, now: number): number {
  const relative = /^(\d+)([smhdw])$/.exec(value);
  if (relative) return now - Number(relative[1]) * UNITS[relative[2]!]!;
  try {
    return parseTime(value);
  } catch {
    throw new UsageError(`--${flag} takes RFC 3339 (2026-11-27T10:00:00Z) or a duration (15m, 2h, 7d), not ${JSON.stringify(value)}`);
  }
}
