import type { GuardProblem } from './driver.js';

const KINDS = ['missing', 'altered', 'unexpected'] as const;

/** `a`, `a and b`, `a, b and c`. */
function list(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

/**
 * One clause per kind of problem, naming the tables and, with `names`, the
 * guards: "the append-only guards of entries are missing (entries_no_update,
 * entries_no_delete)". Empty when there are none.
 */
export function describeGuards(problems: readonly GuardProblem[], names = true): string {
  const clauses: string[] = [];
  for (const kind of KINDS) {
    const these = problems.filter((p) => p.kind === kind);
    if (these.length === 0) continue;
    const owners = [...new Set(these.map((p) => p.table))];
    const tables = list(owners);
    const many = these.length > 1;
    const clause =
      kind === 'unexpected'
        ? `${tables} ${owners.length > 1 ? 'have' : 'has'} ${many ? 'triggers' : 'a trigger'} stele does not create`
        : `the append-only ${many ? 'guards' : 'guard'} of ${tables} ${many ? 'are' : 'is'} ${kind}`;
    clauses.push(names ? `${clause} (${these.map((p) => p.guard).join(', ')})` : clause);
  }
  return clauses.join('; ');
}
