import { createHash } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Actor, Submitter } from '@stele/log';
import type { Log } from '@stele/store';

/**
 * Stele audits itself: administrative actions are events in its own log
 * (source `stele`), so nobody changes how Stele records without leaving a
 * trace in what it records.
 */

/** The person at this terminal, as the OS knows them (the CLI has no other identity yet). */
export function localActor(): { actor: Actor; submitter: Submitter } {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): keep "unknown".
  }
  const id = `${user}@${hostname()}`;
  return { actor: { id, verified: false }, submitter: { type: 'local', id } };
}

/** The collector process itself. */
export function collectorActor(): Actor {
  return { id: `stele-collector@${hostname()}`, name: 'Stele collector', verified: false };
}

/**
 * A finding of the collector about a device (`stele.gap`, `stele.retired-report`):
 * its id is derived from `key` and its time is the offending event's
 * `received`, so a re-check or a second collector records it once.
 */
export function deviceFinding(finding: { action: string; idPrefix: string; key: string; device: string; time: string; details: Record<string, unknown> }): Record<string, unknown> {
  return {
    id: `${finding.idPrefix}/${createHash('sha256').update(finding.key).digest('hex').slice(0, 32)}`,
    time: finding.time,
    source: 'stele',
    action: finding.action,
    actor: collectorActor(),
    target: { type: 'device', id: finding.device },
    outcome: 'failure',
    details: finding.details,
  };
}

/** A stable hash of a configuration, to notice when it changed between starts. */
export function configHash(config: object): string {
  return createHash('sha256').update(JSON.stringify(config, Object.keys(flatten(config)).sort())).digest('hex');
}

function flatten(value: object, out: Record<string, true> = {}): Record<string, true> {
  for (const [k, v] of Object.entries(value)) {
    out[k] = true;
    if (v && typeof v === 'object') flatten(v, out);
  }
  return out;
}

/** Appends one self-audit event and waits until it is durable. */
export async function recordAdmin(
  log: Log,
  action: string,
  fields: {
    actor: Actor;
    submitter?: Submitter;
    target?: { type: string; id?: string; name?: string };
    outcome?: 'success' | 'failure';
    reason?: string;
    details?: Record<string, unknown>;
  },
): Promise<number> {
  const event = {
    source: 'stele',
    action,
    actor: fields.actor,
    outcome: fields.outcome ?? 'success',
    host: hostname(),
    ...(fields.target && { target: fields.target }),
    ...(fields.reason && { reason: fields.reason }),
    ...(fields.details && { details: fields.details }),
  };
  const result = await log.append([event], fields.submitter ? { submitter: fields.submitter } : {});
  return result.entries[0]!.index;
}

/** The details of the newest self-audit event with this action, if any. */
export async function lastAdmin(log: Log, action: string): Promise<Record<string, unknown> | undefined> {
  const [entry] = await log.query({ source: 'stele', action, limit: 1 });
  return entry?.record.details as Record<string, unknown> | undefined;
}

/** A collector run on this host that started and never recorded its stop. */
export interface LostRun {
  /** The index of its `collector.start`. */
  startIndex: number;
  pid: number;
  /** When it started (its `collector.start`'s time). */
  started: string;
}

/** How many of the newest `collector.*` events are looked through for this host's. */
const RECENT = 100;

/**
 * The previous collector on this host, when it stopped without recording
 * `collector.stop` (killed, crashed, or the machine lost power) and nothing
 * has said so yet. Not a collector whose process still runs: another one on
 * this host, beside this one.
 */
export async function lostRun(log: Log): Promise<LostRun | undefined> {
  const host = hostname();
  const recent = async (action: string) => (await log.query({ source: 'stele', action, limit: RECENT })).filter((e) => e.record.host === host);
  const [start] = await recent('collector.start');
  const pid = start?.record.details?.pid;
  if (!start || typeof pid !== 'number') return undefined;
  const after = (e: { index: number; record: { details?: Record<string, unknown> } }) => e.index > start.index;
  if ((await recent('collector.stop')).some((e) => after(e) && e.record.details?.pid === pid)) return undefined;
  if ((await recent('collector.lost')).some((e) => after(e) && e.record.details?.startIndex === start.index)) return undefined;
  if (pid !== process.pid && running(pid)) return undefined;
  return { startIndex: start.index, pid, started: start.record.time };
}

/** Whether a process with this id runs on this machine. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
