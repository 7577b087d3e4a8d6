import type { EventRecord } from '@stele/log';
import { StoreError, type CommitEvent, type Log, type LogEntry, type StoredEntry } from '@stele/store';
import { deviceFinding } from '../audit.js';
import { actionOf, applyAction, reportRetired, retiredReportEvent, userOf, type DeviceAction } from './action.js';
import { advanceTo, checkNext, checkOrder, type DeviceEvent, type DeviceState, type Gap, type Retirement } from './chain.js';
import type { DeviceStore } from './deviceStore.js';
import { memberOf } from './members.js';
import { recordOf, Sighting } from './sighting.js';

export { chainHash } from './sighting.js';

/** Options of {@link startDeviceTracker}. */
export interface DeviceTrackerOptions {
  log: Log;
  store: DeviceStore;
  /** Called when recording a gap failed for a reason other than another collector having recorded it. */
  onError?: (err: unknown) => void;
}

/**
 * Follows the log's device events and admins' device actions, keeps the
 * device table, and records `stele.gap` and `stele.retired-report` events.
 */
export interface DeviceTracker {
  /** Every enrolled device. */
  list(): DeviceState[];
  /** One device, as the table has it now. */
  get(id: string): DeviceState | undefined;
  /** Resolves once the table reflects the log up to and including entry `index` (an entry already appended). */
  through(index: number): Promise<void>;
  /** Resolves once every commit so far was checked and every gap it found is in the log. */
  idle(): Promise<void>;
  /** Stops following the log (after {@link idle}) and closes the table. */
  close(): Promise<void>;
}

/** A gap's event: deterministic id and time, so a second collector or a re-check records it once. */
export function gapEvent(gap: Gap, offending: EventRecord): Record<string, unknown> {
  const user = userOf(offending.actor);
  const details =
    gap.kind === 'seq'
      ? { device: gap.device, kind: 'seq', missing: { from: gap.from, to: gap.to }, seq: gap.seq, index: gap.index, user }
      : { device: gap.device, kind: 'chain', seq: gap.seq, index: gap.index, expectedPrev: gap.expected, prev: gap.prev, user };
  return deviceFinding({ action: 'stele.gap', idPrefix: 'stele-gap', key: `${gap.device}\n${gap.index}\n${gap.kind}`, device: gap.device, time: offending.received, details });
}

const isGapRecord = (r: EventRecord) => r.source === 'stele' && r.action === 'stele.gap' && typeof r.details?.device === 'string';

// Stored bytes are canonical JSON, keys sorted, so `action` comes first: only a record
// starting so is parsed, to count a gap or to take an admin's device action.
const GAP_START = Buffer.from('{"action":"stele.gap",');
const ACTION_START = Buffer.from('{"action":"device.');
const STELE = Buffer.from('"stele"');
const startsWith = (bytes: Uint8Array, start: Uint8Array) => {
  if (bytes.length <= start.length) return false;
  for (let i = start.length - 1; i >= 0; i--) if (bytes[i] !== start[i]) return false;
  return true;
};
/** True when the bytes' `source` is `stele` (other sources' `device.*` actions are not parsed). */
const fromStele = (bytes: Uint8Array) => {
  const source = memberOf(bytes, 'source');
  return source !== undefined && source.end - source.value === STELE.length && STELE.every((b, i) => bytes[source.value + i] === b);
};

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

  /** Appends a finding (a gap, a retired device reporting) after the commit that revealed it. */
  const record = (event: Record<string, unknown>) => {
    const p = log.append([event]).catch((err: unknown) => {
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
    /** Admins' actions, by device, in log order (rare: most batches have none). */
    const actions = new Map<string, DeviceAction[]>();
    for (const entry of fresh) {
      if (startsWith(entry.bytes, GAP_START)) {
        const record = recordOf(entry);
        if (isGapRecord(record)) recorded.push(record.details!.device as string);
      } else if (startsWith(entry.bytes, ACTION_START) && fromStele(entry.bytes)) {
        const action = actionOf(recordOf(entry));
        if (action) actions.set(action.device, [...(actions.get(action.device) ?? []), action]);
      }
      const sighting = Sighting.of(entry);
      if (!sighting) continue;
      const seen = byDevice.get(sighting.device.id);
      if (seen) seen.push(sighting);
      else byDevice.set(sighting.device.id, [sighting]);
    }
    const gaps: Array<[Gap, EventRecord]> = [];
    const reports: Array<[Retirement, EventRecord]> = [];
    const ids = actions.size === 0 ? [...byDevice.keys()] : [...new Set([...byDevice.keys(), ...actions.keys()])];
    // In checkOrder: by device, then sequence number, then index.
    for (const id of ids.sort()) {
      const events = byDevice.get(id) ?? [];
      if (!inOrder(events)) events.sort(checkOrder);
      let state = current(id);
      // The common events wait here to be applied at once, as checkNext would one by one: late
      // ones (a retry under a new id) only count, and of a run in order only the last one's
      // user, time and hash stay, so the others' are never read from their bytes.
      let late = 0;
      let moved = 0;
      let last: Sighting | undefined;
      const settle = () => {
        if (late > 0) state = { ...state!, late: state!.late + late };
        if (moved > 0) state = advanceTo(state, last!, moved);
        late = moved = 0;
        last = undefined;
      };
      const follow = (event: Sighting) => {
        if (state && !state.retired) {
          const { seq, prev } = event.device;
          const lastSeq = last ? last.device.seq : state.lastSeq;
          if (seq <= lastSeq) {
            late++;
            return;
          }
          if (seq === lastSeq + 1 && (prev === undefined || prev === (last ? last.hash : state.lastHash))) {
            last = event;
            moved++;
            return;
          }
        }
        settle();
        const step = checkNext(state, event);
        state = step.state;
        if (step.gap) gaps.push([step.gap, event.record]);
        if (state.retired) {
          const seen = reportRetired(state as DeviceState & { retired: Retirement }, event);
          state = seen.state;
          if (seen.report) reports.push([state.retired!, event.record]);
        }
      };
      const mine = actions.get(id);
      if (!mine) for (const event of events) follow(event);
      else {
        // An action applies from its place in the log: the device's events before it are checked first.
        let rest = events;
        for (const action of mine) {
          for (const event of rest) if (event.index < action.index) follow(event);
          rest = rest.filter((e) => e.index > action.index);
          settle();
          state = applyAction(state, action);
        }
        for (const event of rest) follow(event);
      }
      settle();
      if (state) changed.set(id, state);
    }
    // A gap event always comes after the device event it is about, so counting it after the device's events is safe.
    for (const id of recorded) {
      const state = current(id);
      if (state) changed.set(id, { ...state, gaps: state.gaps + 1 });
    }
    store.save(changed.values(), fresh[fresh.length - 1]!.index + 1);
    for (const [gap, offending] of gaps) record(gapEvent(gap, offending));
    for (const [retired, offending] of reports) record(retiredReportEvent(retired, offending));
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

  const through = async (index: number) => {
    checkBacklog();
    await work;
    // The commit was not handed to us (yet): read it from the log.
    if (store.checked() <= index) await enqueue(catchUp);
  };

  return {
    list: () => store.list(),
    get: (id) => store.get(id),
    through,
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
