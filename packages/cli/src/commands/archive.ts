import {
  ArchiveError, checkWorm, createArchiver, isLockMode, lockFor, logSource, openArchive, type ArchiveCycle, type LockMode, type WormStatus,
} from '@stele/archive';
import { openStore } from '@stele/store';
import { S3_OPTIONS, reportArchiveError, s3Settings } from '../archiveFlags.js';
import { EXIT, type Io } from '../io.js';
import { progressBar } from '../progress.js';
import { plural } from '../text.js';
import { DIR_OPTION, UsageError, dataDir, integer, parse } from '../usage.js';

/**
 * `stele archive --to s3://bucket/prefix|file:///path [--dir D] [--mode
 * COMPLIANCE|GOVERNANCE] [--retention-days N] [--no-latest] [--allow-unlocked]
 * [--endpoint URL] [--region R] [--path-style] [--json]`: copy the log's
 * tiles and its signed checkpoint to write-once storage, adding only what is
 * missing (docs/ARCHIVE.md). Exit 1 when the archive contradicts the log.
 */
export async function archive(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {
    ...DIR_OPTION,
    ...S3_OPTIONS,
    to: { type: 'string' },
    mode: { type: 'string' },
    'retention-days': { type: 'string' },
    'no-latest': { type: 'boolean' },
    'allow-unlocked': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (!values.to) throw new UsageError('--to s3://bucket/prefix or --to file:///path is required');
  const mode = values.mode?.toUpperCase();
  if (mode !== undefined && !isLockMode(mode)) throw new UsageError(`--mode is COMPLIANCE or GOVERNANCE, not ${JSON.stringify(values.mode)}`);
  const retentionDays = integer('retention-days', values['retention-days'], 1);

  const store = await openStore(dataDir(io, values.dir), { mode: 'read' });
  let target;
  try {
    target = openArchive(values.to, s3Settings(io, values));
    const status = await target.inspect();
    checkWorm(status, target.url, values['allow-unlocked']);
    if (!status.objectLock && !status.unverifiable) io.stderr(`stele archive: warning: ${target.url} has no Object Lock: these are copies, not a WORM archive\n`);
    const settings = { ...(mode ? { mode: mode as LockMode } : {}), ...(retentionDays ? { retentionDays } : {}) };
    lockFor(settings, status, Date.now()); // refuse a missing retention before writing anything
    const bar = io.isTTY && !values.json ? progressBar(io, 'archiving') : undefined;
    const archiver = createArchiver({
      source: logSource(store.log),
      target,
      verifier: store.verifier,
      lock: (now) => lockFor(settings, status, now),
      latest: !values['no-latest'],
      onProgress: bar?.update,
    });
    const cycle = await archiver.run();
    bar?.done();
    report(io, target.url, cycle, values.json, held(status, values['allow-unlocked']));
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ArchiveError) return reportArchiveError(io, 'archive', err, values.json);
    throw err;
  } finally {
    await target?.close();
    await store.log.close();
  }
}

/**
 * How the lock of the writes holds, as far as this store can tell: S3 with
 * Object Lock enforces it; a directory takes it as the files' retention date,
 * which only a WORM volume enforces (the operator vouches for it, unless
 * --allow-unlocked says it is not one); anything else holds no lock at all.
 */
function held(status: WormStatus, allowUnlocked: boolean | undefined): 'locked' | 'retained' | 'unlocked' {
  if (status.objectLock) return 'locked';
  return status.unverifiable && !allowUnlocked ? 'retained' : 'unlocked';
}

function report(io: Io, url: string, cycle: ArchiveCycle, json: boolean | undefined, holds: ReturnType<typeof held>): void {
  const lock = cycle.lock ? { mode: cycle.lock.mode, retainUntil: cycle.lock.retainUntil.toISOString() } : null;
  if (json) {
    const { lock: _lock, ...rest } = cycle;
    io.stdout(JSON.stringify({ to: url, ...rest, lock }) + '\n');
    return;
  }
  if (cycle.size === 0) {
    io.stdout(`the log is empty: nothing archived to ${url}\n`);
    return;
  }
  // A lock is worth telling only of objects written now, on a store that holds it (an unlocked one was warned of).
  let kept = '';
  if (lock && cycle.created > 0 && holds === 'locked') kept = `, locked ${lock.mode} until ${lock.retainUntil}`;
  else if (lock && cycle.created > 0 && holds === 'retained') kept = `, committed read-only with retention until ${lock.retainUntil}`;
  io.stdout(`archived ${plural(cycle.size, 'entry', 'entries')} to ${url}: ${plural(cycle.created, 'object')} written, ${cycle.existing} already there; ${cycle.checkpoint}${kept}\n`);
}
