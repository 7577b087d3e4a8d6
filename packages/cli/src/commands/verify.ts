import { existsSync, readFileSync } from 'node:fs';
import { createVerifier, parseCheckpoint, parseNote } from '@stele/log';
import { openForAudit, verifyLog } from '@stele/store';
import { S3_OPTIONS } from '../archiveFlags.js';
import { EXIT, type Io } from '../io.js';
import { progressBar } from '../progress.js';
import { plural } from '../text.js';
import { DIR_OPTION, UsageError, dataDir, parse } from '../usage.js';
import { verifyArchived } from './verifyArchive.js';

/**
 * `stele verify [--dir D] [--against FILE] [--key VKEY|FILE] [--json]`:
 * recompute everything from the stored entries. Exit 0 when all holds (the
 * line says when a saved checkpoint was checked too), 1 on the first
 * mismatch (named by code, and by index where one entry or range start can
 * be named). With `--archive URL --key
 * VKEY`, verify an archive instead, with no data directory at all.
 */
export async function verify(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {
    ...DIR_OPTION,
    ...S3_OPTIONS,
    json: { type: 'boolean' },
    against: { type: 'string' },
    key: { type: 'string' },
    archive: { type: 'string' },
    size: { type: 'string' },
  });
  if (values.archive !== undefined) {
    if (values.key === undefined) throw new UsageError('--archive needs --key VKEY|FILE: the verifier key the auditor trusts');
    if (values.against !== undefined) throw new UsageError('--against checks a data directory; verify the archive as of an older size with --size');
    return verifyArchived(io, { ...values, archive: values.archive, verifier: await pinnedVerifier(values.key) });
  }
  if (values.size !== undefined) throw new UsageError('--size goes with --archive');
  const against = values.against === undefined ? undefined : savedCheckpoint(values.against);
  // Not openStore: that refuses a store whose tree contradicts its checkpoint, which is what verify must report.
  const store = await openForAudit(dataDir(io, values.dir));
  try {
    // A key pinned from elsewhere beats the one stored beside the log, which an attacker could replace.
    const verifier = values.key === undefined ? store.verifier : await pinnedVerifier(values.key);
    const bar = io.isTTY && !values.json ? progressBar(io, 'verifying') : undefined;
    const result = await verifyLog({
      driver: store.driver,
      verifier,
      origin: store.origin,
      against: against?.note,
      onProgress: bar?.update,
    });
    bar?.done();
    if (values.json) io.stdout(JSON.stringify(result) + '\n');
    else if (result.ok) io.stdout(`ok: ${plural(result.size, 'entry', 'entries')} verified; root ${result.root}${extended(against, result.size)}\n`);
    else io.stdout(`FAILED${result.index === null ? '' : ` at index ${result.index}`}: ${result.code}: ${result.message}\n`);
    return result.ok ? EXIT.ok : EXIT.failed;
  } finally {
    await store.driver.close();
  }
}

/** What a successful verify adds about `--against`: that the saved checkpoint was checked (verifyLog fails when it does not hold). */
function extended(against: { size: number } | undefined, size: number): string {
  if (against === undefined) return '';
  return `; ${against.size === size ? 'matches' : 'extends'} the saved checkpoint at size ${against.size}`;
}

/**
 * The text of `--against FILE` and the size it names (unverified), refused
 * (exit 2) unless it has the form of a signed checkpoint: a file that is not
 * one is the wrong file, not a log that fails. Its signature, origin and
 * consistency are verification's to judge.
 */
function savedCheckpoint(path: string): { note: string; size: number } {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--against: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return { note: text, size: parseCheckpoint(parseNote(text).text).size };
  } catch (err) {
    throw new UsageError(`--against ${path} is not a signed checkpoint (${(err as Error).message})`);
  }
}

async function pinnedVerifier(value: string) {
  if (value.includes('+') && !existsSync(value)) return createVerifier(value);
  let text;
  try {
    text = readFileSync(value, 'utf8');
  } catch (err) {
    // Not a key (which has a "+": name+hash+key), and no file of that name either.
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(`--key ${JSON.stringify(value)} is neither a verifier key (name+hash+key) nor a readable file (${why})`);
  }
  return createVerifier(text.trim());
}
