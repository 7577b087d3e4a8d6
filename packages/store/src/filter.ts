import { OUTCOMES, parseTime, type EventRecord } from '@stele/log';
import type { QueryFilter } from './driver.js';
import { indexRowOf } from './indexRow.js';
import { matchesTerms, queryTerms, tokenize, wordsWithoutTokens } from './text.js';

/** A filter's action pattern: an exact action, or a prefix when it ends in `*`. */
export function actionPattern(action: string): { exact: string } | { prefix: string } {
  return action.endsWith('*') ? { prefix: action.slice(0, -1) } : { exact: action };
}

/**
 * The exact meaning of a query filter on one record. Drivers may return
 * candidates loosely (whole batches, hash collisions); the log service keeps
 * only the records this accepts.
 */
export function recordMatcher(filter: QueryFilter): (record: EventRecord) => boolean {
  const terms = filter.text === undefined ? [] : queryTerms(filter.text);
  const action = filter.action === undefined ? undefined : actionPattern(filter.action);
  return (record) => {
    if (filter.actor !== undefined && record.actor.id !== filter.actor && record.actor.email !== filter.actor) return false;
    if (action && ('exact' in action ? record.action !== action.exact : !record.action.startsWith(action.prefix))) return false;
    if (filter.source !== undefined && record.source !== filter.source) return false;
    if (filter.target !== undefined && record.target?.id !== filter.target && record.target?.name !== filter.target) return false;
    if (filter.outcome !== undefined && record.outcome !== filter.outcome) return false;
    if (filter.before !== undefined && record.index >= filter.before) return false;
    if (filter.since !== undefined || filter.until !== undefined || terms.length > 0) {
      const row = indexRowOf(record);
      if (filter.since !== undefined && row.time < filter.since) return false;
      if (filter.until !== undefined && row.time >= filter.until) return false;
      if (terms.length > 0 && !matchesTerms(tokenize(row.text), terms)) return false;
    }
    return true;
  };
}

/** How a caller's parameters are written, to name them in {@link filterProblem}'s answer. */
export interface FilterSpelling {
  /** A parameter's name as the caller takes it (`outcome`, `--outcome`). */
  name(field: 'outcome' | 'since' | 'until'): string;
  /** `since` and `until` as given (a duration or a time), before they were resolved. */
  since?: string;
  until?: string;
}

/**
 * Why a filter cannot be searched as written, or undefined when it can: an
 * outcome that is none, a `since` after the `until` (nothing can match), or
 * a free-text word without letters or digits (dropped, the search would find
 * everything). The collector answers it with a 400, the CLI with exit 2;
 * `recordMatcher` itself still drops such words.
 */
export function filterProblem(filter: Pick<QueryFilter, 'outcome' | 'since' | 'until' | 'text'>, spelling: FilterSpelling = { name: (field) => field }): string | undefined {
  const { name } = spelling;
  if (filter.outcome !== undefined && !OUTCOMES.includes(filter.outcome)) {
    return `${name('outcome')} is ${OUTCOMES.slice(0, -1).join(', ')} or ${OUTCOMES.at(-1)}, not ${JSON.stringify(filter.outcome)}`;
  }
  if (filter.since !== undefined && filter.until !== undefined && filter.since > filter.until) {
    return `${name('since')} ${spelling.since} is after ${name('until')} ${spelling.until}: no event can match (a duration counts back from now)`;
  }
  const [word] = filter.text === undefined ? [] : wordsWithoutTokens(filter.text);
  return word === undefined ? undefined : `the search word ${JSON.stringify(word)} has no letters or digits; search finds words`;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A point in time from RFC 3339 (`2026-11-27T10:00:00Z`) or a duration back
 * from `now` (`15m`, `2h`, `7d`, `1w`), as epoch milliseconds; undefined when
 * it is neither.
 */
export function parseWhen(value: string, now: number): number | undefined {
  const relative = /^(\d{1,9})([smhdw])$/.exec(value);
  if (relative) return now - Number(relative[1]) * UNITS[relative[2]!]!;
  try {
    return parseTime(value);
  } catch {
    return undefined;
  }
}
