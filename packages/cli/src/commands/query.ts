import { toCsv, toOcsf, type EventRecord } from '@stele/log';
import { ConfigError, createIdentityMap, readConfigFile, resolveConfig, searchLog, ticketMatchers } from '@stele/server';
import { filterProblem, openStore, type QueryFilter } from '@stele/store';
import { EXIT, type Io } from '../io.js';
import { displayWidth, fitColumns } from '../text.js';
import { parseWhen } from '../time.js';
import { DIR_OPTION, UsageError, dataDir, integer, parse } from '../usage.js';

/**
 * `stele query [--dir D] [--actor A] [--action X] [--source S] [--target T]
 * [--outcome success|failure|unknown] [--ticket T] [--since T] [--until T] [--text Q] [--limit N] [--config FILE]
 * [--json | --csv | --format ocsf]`: the most recently appended first (the
 * log's order, descending index, not the events' own times), so `--limit N`
 * gives the N most recently appended matches. `--json` prints one stored
 * record per line (JSON Lines), `--format ocsf` one OCSF event per line. An
 * actor is expanded to every identifier of the person it names (the
 * collector's `identities` from `--config`, and the links learned in the log).
 */
export async function query(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {
    ...DIR_OPTION,
    actor: { type: 'string' },
    action: { type: 'string' },
    source: { type: 'string' },
    target: { type: 'string' },
    outcome: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    text: { type: 'string' },
    limit: { type: 'string' },
    ticket: { type: 'string' },
    config: { type: 'string' },
    format: { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'boolean' },
  });
  const format = values.format ?? (values.json ? 'json' : values.csv ? 'csv' : 'table');
  if ([values.json, values.csv, values.format !== undefined].filter(Boolean).length > 1) throw new UsageError('choose one of --json, --csv and --format');
  if (!['table', 'json', 'csv', 'ocsf'].includes(format)) throw new UsageError('--format is table, json, csv or ocsf');
  let settings;
  try {
    settings = resolveConfig({ ...(values.config !== undefined && { file: readConfigFile(values.config) }) });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  const now = Date.now();
  const filter: QueryFilter = {
    actor: values.actor,
    action: values.action,
    source: values.source,
    target: values.target,
    outcome: values.outcome,
    since: values.since === undefined ? undefined : parseWhen('since', values.since, now),
    until: values.until === undefined ? undefined : parseWhen('until', values.until, now),
    text: values.text,
    limit: integer('limit', values.limit, 1) ?? 100,
  };
  const problem = filterProblem(filter, { name: (field) => `--${field}`, since: values.since, until: values.until });
  if (problem !== undefined) throw new UsageError(problem);
  const store = await openStore(dataDir(io, values.dir), { mode: 'read' });
  try {
    const options = { people: createIdentityMap(settings.identities), tickets: ticketMatchers(settings.sources.tickets), ...(values.ticket && { ticket: values.ticket }) };
    const records = (await searchLog(store.log, filter, options)).entries.map((e) => e.record);
    if (format === 'json') io.stdout(records.map((r) => JSON.stringify(r) + '\n').join(''));
    else if (format === 'ocsf') io.stdout(records.map((r) => JSON.stringify(toOcsf(r)) + '\n').join(''));
    else if (format === 'csv') io.stdout(toCsv(records));
    // The table of nothing is a message, not data: stdout stays empty, as with --json.
    else if (records.length === 0) io.stderr('no matching events\n');
    else io.stdout(toTable(records));
    return EXIT.ok;
  } finally {
    await store.log.close();
  }
}

function toTable(records: EventRecord[]): string {
  const rows = [['INDEX', 'TIME', 'SOURCE', 'ACTION', 'ACTOR', 'TARGET', 'OUTCOME', 'REASON']];
  for (const r of records) {
    // A reason may span lines: the table keeps one row per event (--json and --csv keep the text whole).
    const reason = (r.reason ?? '').replace(/[\t\r\n]+/g, ' ');
    rows.push([String(r.index), r.time, r.source, r.action, r.actor.email ?? r.actor.id ?? '', r.target?.name ?? r.target?.id ?? '', r.outcome, reason]);
  }
  // Columns as a terminal draws them: a CJK character or an emoji takes two.
  const widths = rows[0]!.map((_, c) => Math.min(60, Math.max(...rows.map((row) => displayWidth(row[c]!)))));
  return rows.map((row) => row.map((cell, c) => fitColumns(cell, widths[c]!)).join('  ').trimEnd()).join('\n') + '\n';
}
