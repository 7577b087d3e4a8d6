import type Database from 'better-sqlite3';
import type { GuardProblem } from '../driver.js';
import { APPEND_ONLY_TABLES, guardTriggers } from './schema.js';

/**
 * A trigger's CREATE statement as compared: SQLite keeps the text as written
 * (less `IF NOT EXISTS` and the final semicolon), so whitespace and those two
 * are all that may differ from schema.ts's.
 */
function normalTrigger(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim().replace(/;$/, '').replace(/^CREATE TRIGGER IF NOT EXISTS /i, 'CREATE TRIGGER ');
}

/**
 * Compares the file's triggers with the append-only guards schema.ts creates:
 * each must be there with the same statement (a trigger of that name whose
 * body does nothing guards nothing), and no other trigger may be (one that
 * skips inserts would lose acknowledged entries). The schema is read from the
 * file, so it is hostile: it is only compared, never run.
 */
export function findGuardProblems(db: Database.Database, tables: readonly string[] = APPEND_ONLY_TABLES): GuardProblem[] {
  const stored = new Map(
    (db.prepare("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").raw().all() as [string, string, unknown][]).map(
      ([name, table, sql]) => [name, { table, sql: typeof sql === 'string' ? normalTrigger(sql) : '' }],
    ),
  );
  const problems: GuardProblem[] = [];
  for (const table of tables) {
    for (const { name, sql } of guardTriggers(table)) {
      const found = stored.get(name);
      stored.delete(name);
      if (!found) problems.push({ table, guard: name, kind: 'missing' });
      else if (found.table !== table || found.sql !== normalTrigger(sql)) problems.push({ table, guard: name, kind: 'altered' });
    }
  }
  for (const [name, { table }] of stored) problems.push({ table, guard: name, kind: 'unexpected' });
  return problems;
}
