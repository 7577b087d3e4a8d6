import { readFile } from 'node:fs/promises';
import { EventValidationError, sameEvent, validateEvent, type EventInput, type FieldError } from '@stele/log';
import { bindEvents, localActor } from '@stele/server';
import { openStore, parseRecord } from '@stele/store';
import { chooseServer } from '../credentials.js';
import { EXIT, type Io } from '../io.js';
import { answerError, collectorRequest } from '../remote.js';
import { plural } from '../text.js';
import { DIR_OPTION, UsageError, dataDir, parse } from '../usage.js';

/** Events per transaction; the whole input is checked before the first one. */
const CHUNK = 10_000;

/**
 * `stele append [--dir D] [FILE|-] [--json]`: append JSON Lines. The whole
 * input is parsed and checked first (schema, what the collector refuses of a
 * client, and ids already in the log with other content), so a bad line
 * appends nothing. With `--server URL` the
 * events go to that collector instead (POST /v1/events, all or nothing), sent
 * with the stored login (`stele login`) or `$STELE_TOKEN`.
 */
export async function append(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { ...DIR_OPTION, json: { type: 'boolean' }, server: { type: 'string' } }, 1);
  const file = positionals[0] ?? '-';
  const text = file === '-' ? await readStream(io.stdin) : await readInput(file);
  const { inputs, lines } = parseLines(text);
  if (values.server !== undefined) return appendRemote(io, chooseServer(io, values.server), text, inputs.length, Boolean(values.json));

  const events = bindLocal(inputs, lines);
  const { submitter } = localActor();
  const store = await openStore(dataDir(io, values.dir));
  try {
    await refuseConflicts(store.log, events, lines);
    let appended = 0;
    let duplicates = 0;
    for (let i = 0; i < events.length; i += CHUNK) {
      const result = await store.log.append(events.slice(i, i + CHUNK), { submitter });
      for (const e of result.entries) {
        if (e.duplicate) duplicates++;
        else appended++;
      }
    }
    const size = store.log.size();
    if (values.json) io.stdout(JSON.stringify({ appended, duplicates, size }) + '\n');
    else io.stdout(`appended ${plural(appended, 'event')} (${plural(duplicates, 'duplicate')}); log size ${size}\n`);
    return EXIT.ok;
  } finally {
    await store.log.close();
  }
}

/** Sends the (checked) lines to a collector as NDJSON. */
async function appendRemote(io: Io, server: string, text: string, count: number, json: boolean): Promise<number> {
  if (count === 0) throw new UsageError('no events to send');
  const body = text.split('\n').filter((line) => line.trim() !== '').join('\n') + '\n';
  const answer = await collectorRequest(io, server, '/v1/events', { method: 'POST', body, contentType: 'application/x-ndjson' });
  if (answer.status !== 201) throw answerError(answer);
  const entries = (answer.body.entries ?? []) as Array<{ duplicate?: boolean }>;
  const duplicates = entries.filter((e) => e.duplicate).length;
  const result = { appended: entries.length - duplicates, duplicates, size: answer.body.size };
  io.stdout(json ? JSON.stringify(result) + '\n' : `sent ${plural(result.appended, 'event')} to ${server} (${plural(duplicates, 'duplicate')}); log size ${String(result.size)}\n`);
  return EXIT.ok;
}

async function readInput(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses and validates every line; the first bad one is a usage error naming its line number. */
function parseLines(text: string): { inputs: EventInput[]; lines: number[] } {
  const inputs: EventInput[] = [];
  const lines: number[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new UsageError(`line ${line}: invalid JSON: ${(err as Error).message}`);
    }
    const result = validateEvent(value);
    if (!result.ok) throw lineError(line, result.errors);
    inputs.push(result.event);
    lines.push(line);
  });
  return { inputs, lines };
}

/** The first field error of a line, with how many more, as one line. */
function lineError(line: number | undefined, errors: readonly FieldError[]): UsageError {
  const first = errors[0]!;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  // An empty field is the line as a whole (not an object): no field to name.
  return new UsageError(`line ${line}: ${first.field ? `${first.field}: ` : ''}${first.message} [${first.code}]${more}`);
}

/**
 * The events as the collector takes them from a service (bindEvents with no
 * person): a reserved source (`stele`, `stele.*`) or a details key the
 * collector sets is refused, naming the line, and a claimed `verified: true`
 * is kept only as a claim. They are appended with the person at this
 * terminal as their submitter, as `stele token create` records its events.
 */
function bindLocal(inputs: readonly EventInput[], lines: readonly number[]): EventInput[] {
  try {
    return bindEvents(inputs, undefined) as EventInput[];
  } catch (err) {
    if (!(err instanceof EventValidationError)) throw err;
    const event = err.errors[0]!.event;
    throw lineError(lines[event], err.errors.filter((e) => e.event === event));
  }
}

/** An id already in the log, or earlier in the input, with other content rejects the input. */
async function refuseConflicts(log: Awaited<ReturnType<typeof openStore>>['log'], inputs: EventInput[], lines: number[]): Promise<void> {
  const ids = inputs.flatMap((e) => (e.id === undefined ? [] : [e.id]));
  if (ids.length === 0) return;
  const stored = await log.driver.findIds(ids);
  const earlier = new Map<string, { input: EventInput; line: number }>();
  inputs.forEach((input, i) => {
    if (input.id === undefined) return;
    const found = stored.get(input.id);
    if (found && !sameEvent(input, parseRecord(found.bytes))) {
      throw new UsageError(`line ${lines[i]}: id ${input.id} is already in the log (index ${found.index}) with different content`);
    }
    const prior = earlier.get(input.id);
    if (prior && JSON.stringify(prior.input) !== JSON.stringify(input)) {
      throw new UsageError(`line ${lines[i]}: id ${input.id} appears on line ${prior.line} with different content`);
    }
    earlier.set(input.id, { input, line: lines[i]! });
  });
}
