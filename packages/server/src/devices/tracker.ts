import { createHash } from 'node:crypto';
import { canonicalBytes, type EventRecord } from '@stele/log';
import { parseRecord, StoreError, type CommitEvent, type Log, type LogEntry } from '@stele/store';
import { collectorActor } from '../audit.js';
import { sentForm } from '../auth/bind.js';
import { checkNext, checkOrder, type DeviceEvent, type DeviceState, type Gap } from './chain.js';
import type { DeviceStore } from './deviceStore.js';

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

/** The hash a device's next event names as `prev`: SHA-256 of the canonical JSON of the event as sent (bind.ts). */
export function chainHash(record: EventRecord): string {
  return createHash('sha256').update(canonicalBytes(sentForm(record as unknown as Record<string, unknown>))).digest('hex');
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
  const check = (entries: readonly LogEntry[]) => {
    const from = store.checked();
    const fresh = entries.filter((e) => e.index >= from);
    if (fresh.length === 0) return;
    const changed = new Map<string, DeviceState>();
    const current = (id: string) => changed.get(id) ?? store.get(id);
    const events: Array<DeviceEvent & { record: EventRecord }> = [];
    const recorded: string[] = [];
    for (const { index, record } of fresh) {
      if (isGapRecord(record)) recorded.push(record.details!.device as string);
      if (record.device === undefined) continue;
      const a = record.actor;
      events.push({
        device: record.device,
        index,
        received: record.received,
        hash: chainHash(record),
        user: { ...(a.id !== undefined && { id: a.id }), ...(a.email !== undefined && { email: a.email }), ...(a.idp !== undefined && { idp: a.idp }), verified: a.verified },
        ...(record.submitter && { submitter: record.submitter }),
        record,
      });
    }
    const gaps: Array<[Gap, EventRecord]> = [];
    for (const event of events.sort(checkOrder)) {
      const step = checkNext(current(event.device.id), event);
      changed.set(event.device.id, step.state);
      if (step.gap) gaps.push([step.gap, event.record]);
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
      check(stored.map((e) => ({ ...e, record: parseRecord(e.bytes) })));
    }
  };

  const enqueue = (job: () => void | Promise<void>) => {
    work = work.then(job).catch((err: unknown) => options.onError?.(err));
    return work;
  };

  // A large log takes a while the first time: the collector serves meanwhile.
  void enqueue(catchUp);
  const unsubscribe = log.subscribe((commit: CommitEvent) => {
    if (closed) return;
    void enqueue(async () => {
      // A commit that starts where the table is goes straight in; otherwise read what is missing first.
      if (commit.entries[0] && commit.entries[0].index > store.checked()) await catchUp();
      check(commit.entries);
    });
  });

  const idle = async () => {
    for (;;) {
      const awaited = work;
      await awaited;
      if (awaited === work && pending.size === 0) return;
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
      await work;
      store.close();
    },
  };
}
