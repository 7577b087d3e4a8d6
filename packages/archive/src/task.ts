/**
 * The continuous archive of a running collector: a cycle at start, then one
 * every cadence (measured from the end of the previous one, so cycles never
 * overlap), and a last one at shutdown so the archive ends where the log does.
 * A failed cycle is reported and retried at the next one.
 */
import type { ArchiveCycle, Archiver } from './archiveLog.js';

/** Options of {@link startArchiveTask}. */
export interface ArchiveTaskOptions {
  archiver: Archiver;
  /** Milliseconds between the end of one cycle and the start of the next. */
  cadenceMs: number;
  /** Called after every successful cycle. */
  onCycle?: (cycle: ArchiveCycle) => void;
  /** Called with the error of every failed cycle. */
  onError: (err: unknown) => void;
}

/** A running archive task. */
export interface ArchiveTask {
  /** Runs a cycle now (after the one in flight); resolves with it, or rejects with its error. */
  runNow(): Promise<ArchiveCycle>;
  /** Stops the cadence, waits for the cycle in flight, runs a last one; never rejects (errors go to onError). */
  stop(): Promise<void>;
  /** Stops the cadence and waits for the cycle in flight, without a last one. */
  cancel(): Promise<void>;
}

/** Starts the cadence; the first cycle starts at once. */
export function startArchiveTask(options: ArchiveTaskOptions): ArchiveTask {
  const { archiver, cadenceMs } = options;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let inFlight: Promise<unknown> = Promise.resolve();

  const runNow = (): Promise<ArchiveCycle> => {
    const cycle = archiver.run();
    inFlight = cycle.then(options.onCycle, options.onError);
    return cycle;
  };
  const tick = () => {
    timer = undefined;
    runNow().catch(() => undefined).finally(() => {
      if (!stopped) {
        timer = setTimeout(tick, cadenceMs);
        timer.unref();
      }
    });
  };
  tick();

  return {
    runNow,
    async stop() {
      await this.cancel();
      await runNow().catch(() => undefined);
    },
    async cancel() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}
