import {
  EventValidationError, MAX_ENTRY_SIZE, equalBytes, parseCheckpoint, parseNote, recordBytes, formatCheckpoint, formatTime, fromUtf8, newEventId,
  planConsistency, planInclusion, sameEvent, signNote, toRecord, validateEvent,
  type EventInput, type EventRecord, type FieldError, type Hasher, type NoteSigner, type Submitter,
} from '@stele/log';
import type { IndexRow, LogDriver, QueryFilter, StoredCheckpoint, StoredEntry, TreeHash } from './driver.js';
import { StoreError } from './errors.js';
import { recordMatcher } from './filter.js';
import { nodeHasher } from './hash.js';
import { indexRowOf } from './indexRow.js';
import { readNodes, readRange } from './tree.js';

/** Options of {@link openLog}. */
export interface LogOptions {
  driver: LogDriver;
  /** The checkpoint origin; defaults to the one the store was created with. */
  origin?: string;
  /** Signs checkpoints; without one the log is read-only. */
  signer?: NoteSigner;
  hasher?: Hasher;
  /** Epoch milliseconds; the store's clock for `received`. */
  clock?: () => number;
  /** Most events one group commit writes (default 10,000). */
  maxBatch?: number;
  /** Most events waiting for a commit before appends are refused with ERR_OVERLOADED (default 100,000). */
  maxQueued?: number;
  /** Milliseconds between checkpoints kept in the history (default 1,000). */
  historyInterval?: number;
}

/** Where one appended event landed. */
export interface AppendedEntry {
  id: string;
  index: number;
  /** True when the id was already in the log with the same content: nothing was added. */
  duplicate: boolean;
}

/** The answer to an append: durable, and covered by `checkpoint`. */
export interface AppendResult {
  entries: AppendedEntry[];
  /** The signed checkpoint (a signed note) that covers every entry. */
  checkpoint: string;
  size: number;
}

/** An entry read back, with its parsed record. */
export interface LogEntry extends StoredEntry {
  record: EventRecord;
}

/** The log service: one per store, whatever the driver. */
export interface Log {
  readonly origin: string;
  readonly hasher: Hasher;
  readonly driver: LogDriver;
  /** The number of entries. */
  size(): number;
  /** The latest signed checkpoint, if any. */
  checkpoint(): string | undefined;
  /** Events waiting for a commit, and when the latest checkpoint was signed (epoch ms). */
  stats(): { queued: number; checkpointCreated: number | undefined };
  /**
   * Appends events atomically: resolves once they are durable and covered by
   * a signed checkpoint. Throws EventValidationError when any event is bad,
   * StoreError ERR_ID_CONFLICT / ERR_ENTRY_TOO_LARGE / ERR_OVERLOADED; in
   * every case nothing of the call is appended.
   */
  append(events: readonly unknown[], options?: AppendOptions): Promise<AppendResult>;
  /**
   * Notices entries another writer (a second collector, the CLI) appended to
   * the same store: adopts the newer tree and tells subscribers of them.
   */
  catchUp(): Promise<void>;
  /** Calls the listener after every commit; returns the unsubscribe function. */
  subscribe(listener: (event: CommitEvent) => void): () => void;
  entry(index: number): Promise<LogEntry>;
  entryById(id: string): Promise<LogEntry | undefined>;
  /** The RFC 6962 root of the tree at a size up to the current one. */
  root(size: number): Promise<Uint8Array>;
  inclusionProof(index: number, size: number): Promise<Uint8Array[]>;
  consistencyProof(from: number, to: number): Promise<Uint8Array[]>;
  checkpoints(): Promise<StoredCheckpoint[]>;
  /** Matching entries, newest first. */
  query(filter: QueryFilter): Promise<LogEntry[]>;
  /** Waits for pending appends, then closes the driver. */
  close(): Promise<void>;
}

/** Options of one append. */
export interface AppendOptions {
  /** The credential that submitted the events, recorded in each record. */
  submitter?: Submitter;
}

/** What a commit made durable; handed to subscribers after it is. */
export interface CommitEvent {
  entries: LogEntry[];
  size: number;
  checkpoint: string;
}

interface Pending {
  inputs: EventInput[];
  submitter: Submitter | undefined;
  resolve(result: AppendResult): void;
  reject(err: unknown): void;
}

/** Parses stored bytes back into a record (they were written canonical by us). */
export function parseRecord(bytes: Uint8Array): EventRecord {
  return JSON.parse(fromUtf8(bytes)) as EventRecord;
}

/**
 * Opens the log service over a driver: rebuilds the tree state from stored
 * hashes and checks it against the latest checkpoint before accepting appends.
 */
export async function openLog(options: LogOptions): Promise<Log> {
  const { driver, signer } = options;
  const hasher = options.hasher ?? nodeHasher;
  const clock = options.clock ?? Date.now;
  const maxBatch = options.maxBatch ?? 10_000;
  const maxQueued = options.maxQueued ?? 100_000;
  const historyInterval = options.historyInterval ?? 1_000;
  const origin = options.origin ?? (await driver.getMeta('origin'));
  if (!origin) throw new StoreError('ERR_STORE_CORRUPT', 'the store has no origin');

  const head = await driver.head();
  let size = head.size;
  let range = await readRange(driver, hasher, size);
  let latest = head.latest?.note;
  let lastHistoric = head.lastHistoric?.created;
  let latestCreated = head.latest?.created;
  if ((head.latest?.size ?? 0) !== size) {
    throw new StoreError('ERR_STORE_CORRUPT', `the latest checkpoint covers ${head.latest?.size ?? 0} entries but ${size} are stored; run stele verify`);
  }
  // Never sign on top of a tree that is not the one last signed (its signature is checked by stele verify).
  if (head.latest && !equalBytes(parseCheckpoint(parseNote(head.latest.note).text).root, range.root())) {
    throw new StoreError('ERR_STORE_CORRUPT', 'the stored tree does not match the latest checkpoint; run stele verify');
  }

  const queue: Pending[] = [];
  const listeners = new Set<(event: CommitEvent) => void>();
  let queued = 0;
  let scheduled = false;
  let flushing: Promise<void> | undefined;
  let closed = false;

  function schedule(): void {
    if (scheduled || flushing) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      flushing = flush().finally(() => {
        flushing = undefined;
        if (queue.length > 0) schedule();
      });
    });
  }

  /** One group commit: every waiting call, up to maxBatch events, in one transaction. */
  async function flush(): Promise<void> {
    const calls: Pending[] = [];
    let taken = 0;
    while (queue.length > 0 && (calls.length === 0 || taken + queue[0]!.inputs.length <= maxBatch)) {
      const call = queue.shift()!;
      calls.push(call);
      taken += call.inputs.length;
    }
    queued -= taken;
    try {
      // Another writer (a second collector, the CLI) may have appended since we
      // last looked: the driver refuses the batch, we catch up and sequence again.
      for (let attempt = 1; ; attempt++) {
        try {
          await commitCalls(calls);
          break;
        } catch (err) {
          if (!(err instanceof StoreError && err.code === 'ERR_SIZE_CONFLICT') || attempt >= 5) throw err;
          await reload();
        }
      }
    } catch (err) {
      for (const call of calls) call.reject(err);
    }
  }

  async function commitCalls(calls: Pending[]): Promise<void> {
    const ids = calls.flatMap((c) => c.inputs.flatMap((e) => (e.id === undefined ? [] : [e.id])));
    const stored = ids.length > 0 ? await driver.findIds(ids) : new Map<string, StoredEntry>();
    const now = clock();
    const received = formatTime(now);
    const work = range.clone();
    const entries: (StoredEntry & { row: IndexRow })[] = [];
    const hashes: TreeHash[] = [];
    const seen = new Map<string, { index: number; record: EventRecord }>();
    const accepted: { call: Pending; entries: AppendedEntry[] }[] = [];
    const keepTileLevels = (level: number, index: number, hash: Uint8Array) => {
      if (level > 0 && level % 8 === 0) hashes.push({ level, index, hash });
    };

    for (const call of calls) {
      const mine: (StoredEntry & { row: IndexRow })[] = [];
      const mineSeen = new Map<string, { index: number; record: EventRecord }>();
      const out: AppendedEntry[] = [];
      try {
        for (const input of call.inputs) {
          if (input.id !== undefined) {
            const prior = mineSeen.get(input.id) ?? seen.get(input.id) ?? fromStored(stored.get(input.id));
            if (prior) {
              if (!sameEvent(input, prior.record)) {
                throw new StoreError('ERR_ID_CONFLICT', `id ${input.id} is already in the log (index ${prior.index}) with different content`);
              }
              out.push({ id: input.id, index: prior.index, duplicate: true });
              continue;
            }
          }
          const index = size + entries.length + mine.length;
          const id = input.id ?? newEventId(now);
          const record = toRecord(input, { id, received, index, submitter: call.submitter });
          const bytes = recordBytes(record);
          if (bytes.length > MAX_ENTRY_SIZE) {
            throw new StoreError('ERR_ENTRY_TOO_LARGE', `event ${id} is ${bytes.length} bytes as stored; the limit is ${MAX_ENTRY_SIZE}`);
          }
          mine.push({ index, id, leafHash: hasher.hashLeaf(bytes), bytes, row: indexRowOf(record) });
          mineSeen.set(id, { index, record });
          out.push({ id, index, duplicate: false });
        }
      } catch (err) {
        call.reject(err);
        continue;
      }
      for (const e of mine) {
        work.append(e.leafHash, keepTileLevels);
        entries.push(e);
      }
      for (const [id, v] of mineSeen) seen.set(id, v);
      accepted.push({ call, entries: out });
    }
    if (accepted.length === 0) return;

    if (entries.length > 0) {
      const newSize = size + entries.length;
      const body = formatCheckpoint({ origin: origin!, size: newSize, root: work.root(), extensions: [] });
      const note = await signNote(body, signer!);
      const created = clock();
      const historic = lastHistoric === undefined || created - lastHistoric >= historyInterval;
      await driver.commit({ entries, hashes, checkpoint: { size: newSize, created, note }, historic });
      range = work;
      size = newSize;
      latest = note;
      latestCreated = created;
      if (historic) lastHistoric = created;
      if (listeners.size > 0) {
        const event: CommitEvent = { entries: entries.map(committedEntry), size, checkpoint: note };
        for (const listener of listeners) listener(event);
      }
    }
    for (const a of accepted) a.call.resolve({ entries: a.entries, checkpoint: latest!, size });
  }

  /** Re-reads the tree state after another writer appended. */
  async function reload(): Promise<void> {
    const now = await driver.head();
    range = await readRange(driver, hasher, now.size);
    size = now.size;
    latest = now.latest?.note;
    latestCreated = now.latest?.created;
    lastHistoric = now.lastHistoric?.created;
  }

  function fromStored(entry: StoredEntry | undefined) {
    return entry && { index: entry.index, record: parseRecord(entry.bytes) };
  }

  function validate(events: readonly unknown[]): EventInput[] {
    const inputs: EventInput[] = [];
    const errors: (FieldError & { event: number })[] = [];
    events.forEach((raw, event) => {
      const result = validateEvent(raw);
      if (result.ok) inputs.push(result.event);
      else for (const e of result.errors) errors.push({ ...e, event });
    });
    if (errors.length > 0) throw new EventValidationError(errors);
    return inputs;
  }

  function checkSize(at: number, what: string): void {
    if (!Number.isSafeInteger(at) || at < 0 || at > size) {
      throw new StoreError('ERR_OUT_OF_RANGE', `${what} ${at} is outside the log (size ${size})`);
    }
  }

  const toLogEntry = (e: StoredEntry): LogEntry => ({ ...e, record: parseRecord(e.bytes) });
  /**
   * An entry for subscribers whose record is parsed when first read: every
   * commit is announced, and a listener that only counts (metrics) should not
   * cost a parse per entry.
   */
  const committedEntry = (e: StoredEntry): LogEntry => {
    let record: EventRecord | undefined;
    return {
      ...e,
      get record() {
        return (record ??= parseRecord(e.bytes));
      },
      set record(value) {
        record = value;
      },
    };
  };

  return {
    origin,
    hasher,
    driver,
    size: () => size,
    checkpoint: () => latest,
    stats: () => ({ queued, checkpointCreated: latestCreated }),
    async catchUp() {
      if (flushing || scheduled || closed) return; // a commit in flight catches up by itself
      const before = size;
      if ((await driver.head()).size <= before || flushing) return;
      await reload();
      if (listeners.size === 0) return;
      for (let at = before; at < size; at += 1000) {
        const entries = (await driver.readEntries(at, Math.min(size, at + 1000))).map(toLogEntry);
        const event: CommitEvent = { entries, size, checkpoint: latest! };
        for (const listener of listeners) listener(event);
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    append(events, options = {}) {
      if (closed) return Promise.reject(new StoreError('ERR_CLOSED', 'the log is closed'));
      if (!signer) return Promise.reject(new StoreError('ERR_READ_ONLY', 'the log was opened without its signer key'));
      let inputs: EventInput[];
      try {
        inputs = validate(events);
      } catch (err) {
        return Promise.reject(err);
      }
      if (inputs.length === 0) {
        return Promise.resolve({ entries: [], checkpoint: latest ?? '', size });
      }
      if (queued + inputs.length > maxQueued && queued > 0) {
        return Promise.reject(new StoreError('ERR_OVERLOADED', `${queued} events are waiting to be committed; try again shortly`));
      }
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ inputs, submitter: options.submitter, resolve, reject });
        queued += inputs.length;
        schedule();
      });
    },
    async entry(index) {
      if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
        throw new StoreError('ERR_NOT_FOUND', `no entry at index ${index} (size ${size})`);
      }
      const [e] = await driver.readEntries(index, index + 1);
      return toLogEntry(e!);
    },
    async entryById(id) {
      const e = (await driver.findIds([id])).get(id);
      return e && toLogEntry(e);
    },
    async root(at) {
      checkSize(at, 'size');
      if (at === size) return range.root();
      return (await readRange(driver, hasher, at)).root();
    },
    async inclusionProof(index, at) {
      checkSize(at, 'size');
      if (!Number.isSafeInteger(index) || index < 0 || index >= at) {
        throw new StoreError('ERR_OUT_OF_RANGE', `index ${index} is not below size ${at}`);
      }
      const plan = planInclusion(index, at);
      return plan.fold(hasher, await readNodes(driver, hasher, plan.ids));
    },
    async consistencyProof(from, to) {
      checkSize(to, 'size');
      if (!Number.isSafeInteger(from) || from < 0 || from > to) {
        throw new StoreError('ERR_OUT_OF_RANGE', `size ${from} is not between 0 and ${to}`);
      }
      const plan = planConsistency(from, to);
      return plan.fold(hasher, await readNodes(driver, hasher, plan.ids));
    },
    checkpoints: () => driver.readCheckpoints(),
    async query(filter) {
      // Drivers may hand back loose candidates; each record is checked exactly here.
      const matches = recordMatcher(filter);
      const out: LogEntry[] = [];
      if (filter.limit <= 0) return out;
      for await (const page of driver.query(filter)) {
        for (const stored of await driver.readMany(page)) {
          const entry = toLogEntry(stored);
          if (!matches(entry.record)) continue;
          out.push(entry);
          if (out.length >= filter.limit) return out;
        }
      }
      return out;
    },
    async close() {
      closed = true;
      while (flushing || scheduled || queue.length > 0) {
        await (flushing ?? new Promise((r) => setImmediate(r)));
      }
      await driver.close();
    },
  };
}
