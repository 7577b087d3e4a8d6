import { createHash } from 'node:crypto';
import type { EventRecord } from '@stele/log';
import { parseRecord, StoreError, type CommitEvent, type Log, type LogEntry, type StoredEntry } from '@stele/store';
import { collectorActor } from '../audit.js';
import { checkNext, checkOrder, type DeviceEvent, type DeviceState, type Gap } from './chain.js';
import type { DeviceStore } from './deviceStore.js';
import { Sighting } from './sighting.js';

export { chainHash } from './sighting.js';

/** Options of {@link startDeviceTracker}. */
export interface DeviceTrackerOptions {
  log: Log;
  store: DeviceStore;
  /** Called when recording a gap failed for a reason other than another collector having recorded it. */
  onError?: (err: unknown) => void;
}

/** Follows the log's device events, keeps the device table, and records `stele.gap` events. */
export interface DeviceTracker {
  /** Every enrolled device. */
  list(): DeviceState[];
  /** Resolves once every commit so far was checked and every gap it found is in the log. */
  idle(): Promise<void>;
  /** Stops following the log (after {@link idle}) and closes the table. */
  close(): Promise<void>;
}

/** A gap's event: deterministic id and time, so a second collector or a re-check records it once. */
export function gapEvent(gap: Gap, offending: EventRecord): Record<string, unknown> {
  const key = createHash('sha256').update(`${gap.device}\n${gap.index}\n${gap.kind}`).digest('hex').slice(0, 32);
  const a = offending.actor;
  const user = { ...(a.id !== undefined && { id: a.id }), ...(a.email !== undefined && { email: a.email }), ...(a.idp !== undefined && { idp: a.idp }), verified: a.verified };
  const details =
    gap.kind === 'seq'
      ? { device: gap.device, kind: 'seq', missing: { from: gap.from, to: gap.to }, seq: gap.seq, index: gap.index, user }
      : { device: gap.device, kind: 'chain', seq: gap.seq, index: gap.index, expectedPrev: gap.expected, prev: gap.prev, user };
  return {
    id: `stele-gap/${key}`,
    time: offending.received,
    source: 'stele',
    action: 'stele.gap',
    actor: collectorActor(),
    target: { type: 'device', id: gap.device },
    outcome: 'failure',
    details,
  };
}

const isGapRecord = (r: EventRecord) => r.source === 'stele' && r.action === 'stele.gap' && typeof r.details?.device === 'string';

// Stored bytes are canonical JSON, keys sorted, so `action` comes first: only a record
// starting so is parsed to count gaps.
const GAP_START = Buffer.from('{"action":"stele.gap",');
const mayBeGap = (bytes: Uint8Array) => {
  if (bytes.length <= GAP_START.length) return false;
  for (let i = GAP_START.length - 1; i >= 0; i--) if (bytes[i] !== GAP_START[i]) return false;
  return true;
};
const recordOf = (e: StoredEntry): EventRecord => (e as Partial<LogEntry>).record ?? parseRecord(e.bytes);

/** True when one device's events are already in checkOrder (the common case: a device sends in order). */
const inOrder = (events: readonly DeviceEvent[]) => events.every((e, i) => i === 0 || checkOrder(events[i - 1]!, e) <= 0);

/**
 * Commits are checked together once this many milliseconds passed since the
 * first unchecked one: one table write for many commits under load.
 */
const CHECK_DELAY_MS = 50;

/**
 * Starts following the log: first the entries the table has not seen (the
 * collector was down, or the CLI appended), then every commit as it happens.
 * Checking is serialized and in log order; gap events are appended after the
 * commit that revealed them, and counted when they come back as entries, so
 * counts always match the log.
 */
export async function startDeviceTracker(options: DeviceTrackerOptions): Promise<DeviceTracker> {
  const { log, store } = options;
  let work: Promise<void> = Promise.resolve();
  const pending = new Set<Promise<unknown>>();
  let closed = false;
  /** Commits not yet checked, in log order, and the timer that will check them. */
  let backlog: (readonly LogEntry[])[] = [];
  let timer: NodeJS.Timeout | undefined;

  const record = (gap: Gap, offending: EventRecord) => {
    const p = log.append([gapEvent(gap, offending)]).catch((err: unknown) => {
      // Another collector on the same store recorded it first (its host differs): fine.
      if (err instanceof StoreError && (err.code === 'ERR_ID_CONFLICT' || err.code === 'ERR_CLOSED')) return;
      options.onError?.(err);
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  /** Checks entries `checked ..` in index order (they follow one another). */
  const check = (entries: readonly StoredEntry[]) => {
    const from = store.checked();
    const fresh = entries.filter((e) => e.index >= from);
    if (fresh.length === 0) return;
    const changed = new Map<string, DeviceState>();
    const current = (id: string) => changed.get(id) ?? store.get(id);
    const byDevice = new Map<string, Sighting[]>();
    const recorded: string[] = [];
    for (const entry of fresh) {
      if (mayBeGap(entry.bytes)) {
        const record = recordOf(entry);
        if (isGapRecord(record)) recorded.push(record.details!.device as string);
      }
      const sighting = Sighting.of(entry);
      if (!sighting) continue;
      const seen = byDevice.get(sighting.device.id);
      if (seen) seen.push(sighting);
      else byDevice.set(sighting.device.id, [sighting]);
    }
    const gaps: Array<[Gap, EventRecord]> = [];
    // In checkOrder: by device, then sequence number, then index.
    for (const id of [...byDevice.keys()].sort()) {
      const events = byDevice.get(id)!;
      if (!inOrder(events)) events.sort(checkOrder);
      let state = current(id);
      for (const event of events) {
        const step = checkNext(state, event);
        state = step.state;
        if (step.gap) gaps.push([step.gap, event.record]);
      }
      changed.set(id, state!);
    }
    // A gap event always comes after the device event it is about, so counting it after the device's events is safe.
    for (const id of recorded) {
      const state = current(id);
      if (state) changed.set(id, { ...state, gaps: state.gaps + 1 });
    }
    store.save(changed.values(), fresh[fresh.length - 1]!.index + 1);
    for (const [gap, offending] of gaps) record(gap, offending);
  };

  /** Reads and checks whatever the table is behind the log by. */
  const catchUp = async () => {
    const size = log.size();
    for (let at = store.checked(); at < size; at = store.checked()) {
      const stored = await log.driver.readEntries(at, Math.min(size, at + 1000));
      if (stored.length === 0) break;
      check(stored);
    }
  };

  /** Checks commits: those that follow one another in one go, reading first what is missing before one. */
  const checkCommits = async (commits: (readonly LogEntry[])[]) => {
    let run: StoredEntry[] = [];
    for (const entries of commits) {
      const first = entries[0];
      if (!first) continue;
      const next = run.length > 0 ? run[run.length - 1]!.index + 1 : store.checked();
      if (first.index > next) {
        if (run.length > 0) check(run);
        run = [];
        if (first.index > store.checked()) await catchUp();
      }
      for (const e of entries) run.push(e);
    }
    if (run.length > 0) check(run);
  };

  const enqueue = (job: () => void | Promise<void>) => {
    work = work.then(job).catch((err: unknown) => options.onError?.(err));
    return work;
  };

  const checkBacklog = () => {
    clearTimeout(timer);
    timer = undefined;
    const commits = backlog;
    backlog = [];
    if (commits.length > 0) void enqueue(() => checkCommits(commits));
  };

  // A large log takes a while the first time: the collector serves meanwhile.
  void enqueue(catchUp);
  const unsubscribe = log.subscribe((commit: CommitEvent) => {
    if (closed) return;
    backlog.push(commit.entries);
    if (timer === undefined) {
      timer = setTimeout(checkBacklog, CHECK_DELAY_MS);
      timer.unref();
    }
  });

  const idle = async () => {
    for (;;) {
      checkBacklog();
      const awaited = work;
      await awaited;
      if (awaited === work && pending.size === 0 && backlog.length === 0) return;
      await Promise.all(pending);
    }
  };

  return {
    list: () => store.list(),
    idle,
    async close() {
      await idle();
      closed = true;
      unsubscribe();
      checkBacklog();
      await work;
      store.close();
    },
  };
}
