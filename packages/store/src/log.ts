import {
  EventValidationError, MAX_ENTRY_SIZE, entryBytes, equalBytes, formatTime, fromUtf8, newEventId,
  planConsistency, planInclusion, prepareEvent, validateEvent,
  type EventRecord, type FieldError, type Hasher, type NoteSigner, type PreparedEvent, type StoreFields, type Submitter,
} from '@stele/log';
import type { IndexRow, LogDriver, QueryFilter, StoredCheckpoint, StoredEntry } from './driver.js';
import { StoreError } from './errors.js';
import { recordMatcher } from './filter.js';
import { nodeHasher } from './hash.js';
import { rowOfEntry } from './entryScan.js';
import { createSealer, readState, type SealedBatch, type Sealer, type UnsealedBatch, type UnsealedEntry } from './seal.js';
import { readNodes, readRange } from './tree.js';

/** Options of {@link openLog}. */
export interface LogOptions {
  driver: LogDriver;
  /** The checkpoint origin; defaults to the one the store was created with. */
  origin?: string;
  /** Signs checkpoints; without one the log is read-only. */
  signer?: NoteSigner;
  /**
   * Seals and commits the batches (seal.ts): by default on this thread, over
   * `driver` with `signer`; the data directory's writer thread brings its own.
   * The log closes it before the driver.
   */
  sealer?: Sealer;
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
  /** The call's events, validated and written ahead (what a retry sequences again). */
  events: PreparedEvent[];
  submitter: Submitter | undefined;
  resolve(result: AppendResult): void;
  reject(err: unknown): void;
  /** How many times its batch was refused because the log changed under it. */
  attempts: number;
}

/** Where an id of a sequenced batch went: its entry, and the store's fields in it. */
interface Seen {
  readonly index: number;
  readonly bytes: Uint8Array;
  storeFields(): StoreFields;
}

interface Accepted {
  call: Pending;
  entries: AppendedEntry[];
}

/** A batch sequenced on the tip: its calls' answers and, when it adds entries, what to seal and commit. */
interface Sequenced {
  accepted: Accepted[];
  seen: Map<string, Seen>;
  commit?: UnsealedBatch;
}

/** A batch handed to the sealer and not yet settled. */
interface InFlight {
  seen: Map<string, Seen>;
  done: Promise<SealedBatch | undefined>;
}

/**
 * An entry of a batch being sequenced. Its index row is made only when the
 * sealer asks for it: the writer thread derives rows from the bytes on its
 * own core, and the service's thread should not pay for them as well.
 */
class SequencedEntry implements UnsealedEntry, Seen {
  constructor(
    readonly index: number,
    readonly id: string,
    readonly bytes: Uint8Array,
    private readonly received: string,
    private readonly submitter: Submitter | undefined,
  ) {}

  storeFields(): StoreFields {
    return { id: this.id, received: this.received, index: this.index, submitter: this.submitter };
  }

  get row(): IndexRow {
    return rowOfEntry(this.bytes);
  }
}

/**
 * Whether appending `event` again must answer `prior`'s index: its entry,
 * with the store's fields of `prior`, is `prior`'s entry byte for byte (both
 * canonical, so the same record).
 */
function sameEntry(event: PreparedEvent, prior: Seen): boolean {
  return equalBytes(entryBytes(event, prior.storeFields()), prior.bytes);
}

/**
 * An entry handed to subscribers, its record parsed when first read: every
 * commit is announced, and a listener that only counts (metrics) should not
 * cost a parse per entry. The record is an own enumerable member all the
 * same (JSON and spreading see it, as plain data); its accessor is defined
 * with one shared descriptor, so that each entry costs one small object
 * rather than a copy and two closures.
 */
class CommittedEntry implements LogEntry {
  readonly index: number;
  readonly id: string;
  readonly leafHash: Uint8Array;
  readonly bytes: Uint8Array;
  declare record: EventRecord;
  #record: EventRecord | undefined;

  constructor(e: Omit<StoredEntry, 'leafHash'>, leafHash: Uint8Array) {
    this.index = e.index;
    this.id = e.id;
    this.leafHash = leafHash;
    this.bytes = e.bytes;
    Object.defineProperty(this, 'record', RECORD_MEMBER);
  }

  static read(entry: CommittedEntry): EventRecord {
    return (entry.#record ??= parseRecord(entry.bytes, entry.index));
  }

  static write(entry: CommittedEntry, value: EventRecord): void {
    entry.#record = value;
  }
}

const RECORD_MEMBER: PropertyDescriptor = {
  get(this: CommittedEntry) {
    return CommittedEntry.read(this);
  },
  set(this: CommittedEntry, value: EventRecord) {
    CommittedEntry.write(this, value);
  },
  enumerable: true,
  configurable: true,
};

/**
 * Batches sequenced ahead of the durable state, being sealed and written in
 * turn: two at any size, and up to four while the next would hold at least
 * LARGE_BATCH events. Deeper pipelining shortens the wait of calls of 100
 * events (+6% over HTTP, six alternating pairs); with calls of one event it
 * makes many small commits, each with its fixed cost (a signature, a
 * transaction, an fsync: about 0.35 ms), and lost 12-16%.
 */
const MAX_IN_FLIGHT = 2;
const MAX_IN_FLIGHT_LARGE = 4;
const LARGE_BATCH = 100;

/**
 * Parses stored bytes back into a record. We wrote them canonical, but the
 * file can be edited behind the log's back: bytes that are not a JSON object
 * throw ERR_STORE_CORRUPT naming the entry's `index` (stele verify says more).
 */
export function parseRecord(bytes: Uint8Array, index?: number): EventRecord {
  let record: unknown;
  try {
    record = JSON.parse(fromUtf8(bytes));
  } catch {
    throw notARecord(index);
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) throw notARecord(index);
  return record as EventRecord;
}

function notARecord(index: number | undefined): StoreError {
  return new StoreError('ERR_STORE_CORRUPT', `${index === undefined ? 'a stored entry' : `entry ${index}`} is not a valid record (run stele verify)`);
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

  // Never sign on top of a tree that is not the one last signed (its signature is checked by stele verify).
  const state = await readState(driver, hasher);
  const { head, range: opened } = state;
  let size = head.size;
  let root = opened.root();
  let latest = head.latest?.note;
  let lastHistoric = head.lastHistoric?.created;
  let latestCreated = head.latest?.created;
  const sealer = options.sealer ?? (signer && createSealer({ driver, hasher, signer, origin, state }));

  // Two sizes: what is durable (answers reads, proofs, subscribers) and the
  // tip that batches are sequenced on. They differ while commits are in
  // flight: the next batches are sequenced while the sealer hashes, signs and
  // writes the ones before (see MAX_IN_FLIGHT). A batch is
  // acknowledged only once it and every batch before it are durable.
  let tipSize = size;
  /** The service's view of the store: one more each time it reads the store again (seal.ts). */
  let view = 0;
  const queue: Pending[] = [];
  const listeners = new Set<(event: CommitEvent) => void>();
  const inFlight: InFlight[] = [];
  /** Calls of failed or abandoned batches, in order, to sequence again once the state is re-read. */
  const retry: Pending[] = [];
  let settled: Promise<unknown> = Promise.resolve();
  let queued = 0;
  let scheduled = false;
  let sequencing = false;
  let broken = false;
  let closed = false;

  /** Whether another batch may be sequenced before those in flight are durable. */
  function roomInFlight(): boolean {
    return inFlight.length < MAX_IN_FLIGHT || (inFlight.length < MAX_IN_FLIGHT_LARGE && queued >= LARGE_BATCH);
  }

  function schedule(): void {
    if (scheduled || sequencing || broken || !roomInFlight() || queue.length === 0) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void sequenceNext();
    });
  }

  /** Takes every waiting call, up to maxBatch events, sequences them on the tip and hands the batch to the sealer. */
  async function sequenceNext(): Promise<void> {
    if (sequencing || broken || !roomInFlight() || queue.length === 0) return;
    // With nothing in flight, about half of what waits: the rest is sequenced
    // while the first half is written, and the pipeline fills.
    const limit = inFlight.length === 0 && queue.length > 1 ? Math.min(maxBatch, Math.ceil(queued / 2)) : maxBatch;
    const calls: Pending[] = [];
    let taken = 0;
    while (queue.length > 0 && (calls.length === 0 || taken + queue[0]!.events.length <= limit)) {
      const call = queue.shift()!;
      calls.push(call);
      taken += call.events.length;
    }
    queued -= taken;
    sequencing = true;
    let batch: Sequenced | undefined;
    try {
      batch = await sequence(calls);
    } catch (err) {
      for (const call of calls) call.reject(err);
    } finally {
      sequencing = false;
    }
    if (batch && broken) {
      // A commit failed while this batch was being sequenced on top of it.
      retry.push(...batch.accepted.map((a) => a.call));
    } else if (batch) {
      if (batch.commit) {
        tipSize += batch.commit.entries.length;
        if (batch.commit.historic) lastHistoric = batch.commit.created;
      }
      const flight: InFlight = { seen: batch.seen, done: batch.commit ? sealer!.commit(batch.commit) : Promise.resolve(undefined) };
      inFlight.push(flight);
      // Settled strictly in order: a batch is acknowledged after those before it.
      const sequenced = batch;
      settled = settled.then(() => settle(flight, sequenced));
    }
    recoverIfIdle();
    schedule();
  }

  /** Waits for one batch's commit; acknowledges it, or sets its calls aside to try again. */
  async function settle(flight: InFlight, batch: Sequenced): Promise<void> {
    let error: unknown;
    let sealed: SealedBatch | undefined;
    try {
      sealed = await flight.done;
    } catch (err) {
      error = err;
    }
    inFlight.splice(inFlight.indexOf(flight), 1);
    if (broken || error !== undefined) {
      // This batch failed, or was sequenced on one that did: none of it is
      // acknowledged. Calls refused by another writer's append (or only by
      // an earlier failure) are sequenced again on the re-read state.
      broken = true;
      const again = error === undefined || (error instanceof StoreError && error.code === 'ERR_SIZE_CONFLICT');
      for (const { call } of batch.accepted) {
        if (again && ++call.attempts < 5) retry.push(call);
        else call.reject(error ?? new StoreError('ERR_SIZE_CONFLICT', 'the log changed under this append; try again'));
      }
      recoverIfIdle();
      return;
    }
    if (batch.commit && sealed) {
      const { leafHashes } = sealed;
      size = sealed.size;
      root = sealed.root;
      latest = sealed.note;
      latestCreated = batch.commit.created;
      if (listeners.size > 0) {
        const event: CommitEvent = { entries: batch.commit.entries.map((e, i) => new CommittedEntry(e, leafHashes[i]!)), size, checkpoint: latest };
        for (const listener of listeners) {
          // A listener's failure must not undo the acknowledgement of a durable batch.
          try {
            listener(event);
          } catch (err) {
            process.emitWarning(`a commit listener failed: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      }
    }
    for (const a of batch.accepted) a.call.resolve({ entries: a.entries, checkpoint: latest!, size });
    schedule();
  }

  /** After a failure, once nothing is in flight: re-read the store and sequence the set-aside calls again. */
  function recoverIfIdle(): void {
    if (!broken || sequencing || inFlight.length > 0) return;
    sequencing = true;
    reload()
      .then(
        () => {
          queue.unshift(...retry);
          for (const call of retry) queued += call.events.length;
        },
        (err: unknown) => {
          for (const call of retry) call.reject(err);
        },
      )
      .finally(() => {
        retry.length = 0;
        sequencing = false;
        broken = false;
        schedule();
      });
  }

  /** The calls' events as one batch on the tip: duplicates answered, new entries hashed, the checkpoint signed. */
  async function sequence(calls: Pending[]): Promise<Sequenced | undefined> {
    // Ids of batches still in flight are not in the store yet; taken before
    // the lookup, so that a batch landing during it is seen one way or the other.
    const flying = inFlight.map((f) => f.seen);
    const ids: string[] = [];
    for (const call of calls) for (const e of call.events) if (e.id !== undefined) ids.push(e.id);
    const stored = ids.length > 0 ? await driver.findIds(ids) : new Map<string, StoredEntry>();
    const now = clock();
    const received = formatTime(now);
    const start = tipSize;
    const entries: SequencedEntry[] = [];
    const seen = new Map<string, Seen>();
    const accepted: Accepted[] = [];
    const inFlightId = (id: string): Seen | undefined => {
      for (let i = 0; i < flying.length; i++) {
        const hit = flying[i]!.get(id);
        if (hit) return hit;
      }
      return undefined;
    };

    for (const call of calls) {
      const mine: SequencedEntry[] = [];
      const mineSeen = new Map<string, Seen>();
      const out: AppendedEntry[] = [];
      // The store's fields of each entry, one object rewritten per event (entryBytes keeps no reference).
      const fields: StoreFields = { id: '', received, index: 0, submitter: call.submitter };
      try {
        for (const prepared of call.events) {
          if (prepared.id !== undefined) {
            const earlier = mineSeen.get(prepared.id);
            const prior = earlier ?? seen.get(prepared.id) ?? inFlightId(prepared.id) ?? fromStored(stored.get(prepared.id));
            if (prior) {
              if (!sameEntry(prepared, prior)) {
                // An index given to an earlier event of this same call is not in the log, and never will be.
                throw new StoreError('ERR_ID_CONFLICT', earlier
                  ? `id ${prepared.id} appears twice in this append with different content`
                  : `id ${prepared.id} is already in the log (index ${prior.index}) with different content`);
              }
              out.push({ id: prepared.id, index: prior.index, duplicate: true });
              continue;
            }
          }
          const index = start + entries.length + mine.length;
          const id = prepared.id ?? newEventId(now);
          fields.id = id;
          fields.index = index;
          const bytes = entryBytes(prepared, fields);
          if (bytes.length > MAX_ENTRY_SIZE) {
            throw new StoreError('ERR_ENTRY_TOO_LARGE', `event ${id} is ${bytes.length} bytes as stored; the limit is ${MAX_ENTRY_SIZE}`);
          }
          const entry = new SequencedEntry(index, id, bytes, received, call.submitter);
          mine.push(entry);
          // Only a client's id can come again; one the store just made up cannot.
          if (prepared.id !== undefined) mineSeen.set(id, entry);
          out.push({ id, index, duplicate: false });
        }
      } catch (err) {
        call.reject(err);
        continue;
      }
      for (const e of mine) entries.push(e);
      for (const [id, v] of mineSeen) seen.set(id, v);
      accepted.push({ call, entries: out });
    }
    if (accepted.length === 0) return undefined;
    if (entries.length === 0) return { accepted, seen };

    const created = clock();
    const historic = lastHistoric === undefined || created - lastHistoric >= historyInterval;
    return { accepted, seen, commit: { entries, created, historic, view } };
  }

  /** Re-reads the tree state after another writer appended, checked as at open (readState). */
  async function reload(): Promise<void> {
    const { head: now, range } = await readState(driver, hasher);
    root = range.root();
    size = now.size;
    latest = now.latest?.note;
    latestCreated = now.latest?.created;
    lastHistoric = now.lastHistoric?.created;
    tipSize = size;
    view++;
  }

  function fromStored(entry: StoredEntry | undefined): Seen | undefined {
    if (!entry) return undefined;
    const { id, received, index, submitter } = parseRecord(entry.bytes, entry.index);
    return { index: entry.index, bytes: entry.bytes, storeFields: () => ({ id, received, index, submitter }) };
  }

  /**
   * The events validated, each written ahead into its runs while it is at
   * hand (prepareEvent): the queue then holds bytes rather than the events'
   * objects until their batch is durable.
   */
  function validate(events: readonly unknown[]): PreparedEvent[] {
    const prepared: PreparedEvent[] = [];
    const errors: (FieldError & { event: number })[] = [];
    events.forEach((raw, event) => {
      const result = validateEvent(raw);
      if (!result.ok) for (const e of result.errors) errors.push({ ...e, event });
      else if (errors.length === 0) prepared.push(prepareEvent(result.event));
    });
    if (errors.length > 0) throw new EventValidationError(errors);
    return prepared;
  }

  function checkSize(at: number, what: string): void {
    if (!Number.isSafeInteger(at) || at < 0 || at > size) {
      throw new StoreError('ERR_OUT_OF_RANGE', `${what} ${at} is outside the log (size ${size})`);
    }
  }

  const toLogEntry = (e: StoredEntry): LogEntry => ({ ...e, record: parseRecord(e.bytes, e.index) });
  return {
    origin,
    hasher,
    driver,
    size: () => size,
    checkpoint: () => latest,
    stats: () => ({ queued, checkpointCreated: latestCreated }),
    async catchUp() {
      // A commit in flight catches up by itself (the driver refuses it, the state is re-read).
      const busy = () => scheduled || sequencing || broken || inFlight.length > 0 || queue.length > 0 || closed;
      if (busy()) return;
      const before = size;
      if ((await driver.head()).size <= before || busy()) return;
      await reload();
      if (listeners.size === 0) return;
      for (let at = before; at < size; at += 1000) {
        const entries = (await driver.readEntries(at, Math.min(size, at + 1000))).map((e) => new CommittedEntry(e, e.leafHash));
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
      let prepared: PreparedEvent[];
      try {
        prepared = validate(events);
      } catch (err) {
        return Promise.reject(err);
      }
      if (prepared.length === 0) {
        return Promise.resolve({ entries: [], checkpoint: latest ?? '', size });
      }
      if (queued + prepared.length > maxQueued && queued > 0) {
        return Promise.reject(new StoreError('ERR_OVERLOADED', `${queued} events are waiting to be committed; try again shortly`));
      }
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ events: prepared, submitter: options.submitter, resolve, reject, attempts: 0 });
        queued += prepared.length;
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
      if (at === size) return root.slice();
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
      while (scheduled || sequencing || broken || inFlight.length > 0 || queue.length > 0) {
        await Promise.race([settled, new Promise((r) => setImmediate(r))]);
      }
      await sealer?.close();
      await driver.close();
    },
  };
}
