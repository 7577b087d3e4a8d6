/**
 * The collector checks its own log (`verify.everySeconds`, docs/CONFIG.md):
 * a while after it starts, then again each period after the last check
 * ended, it verifies the whole log as `stele verify` does, in a worker
 * thread on one core, so that appends keep the other. Each outcome is logged,
 * shown in `/metrics` and `GET /v1/log`, and recorded in the log itself as a
 * `log.verify` event (outcome success or failure), so that an auditor sees
 * when the log was last found whole and when it stopped being so; the same
 * failure found again is logged but recorded once. A check
 * that could not run (the file unreadable, the worker lost) is logged and
 * shown but not recorded: it found nothing about the log.
 */
import { Worker } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import type { Log, VerifyResult } from '@stele/store';
import { collectorActor, recordAdmin } from './audit.js';

/** What the worker posts. */
export type SelfCheckReply = { result: VerifyResult } | { error: string };

/** The last check's outcome, as `/v1/log` shows it. */
export type SelfCheckStatus = (VerifyResult | { ok: false; code: 'ERR_SELF_CHECK'; message: string }) & {
  /** When it ended (RFC 3339). */
  finished: string;
  seconds: number;
};

/** The first check waits this long after the start, or the period when shorter. */
const FIRST_DELAY_SECONDS = 10;

export interface SelfCheck {
  /** Stops the schedule; a check under way is abandoned, unrecorded. */
  close(): Promise<void>;
}

/** Starts checking the log in `dir` every `everySeconds` (0: never). */
export function startSelfCheck(options: {
  dir: string;
  everySeconds: number;
  log: Log;
  logger: FastifyBaseLogger;
  /** Called with each outcome. */
  publish: (status: SelfCheckStatus) => void;
}): SelfCheck {
  const { everySeconds, log, logger } = options;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  /** The last failure recorded in the log (code and index): the same finding again is logged, not recorded again. */
  let recorded = '';

  const schedule = (seconds: number) => {
    if (closed) return;
    timer = setTimeout(() => (running = check().finally(() => schedule(everySeconds))), seconds * 1000);
    timer.unref();
  };

  /** Runs one verification in a worker thread. */
  const verify = () =>
    new Promise<SelfCheckReply>((resolve) => {
      worker = new Worker(new URL('./selfCheckWorker.js', import.meta.url), { workerData: { dir: options.dir } });
      worker.once('message', (reply: SelfCheckReply) => resolve(reply));
      worker.once('error', (err) => resolve({ error: err.message }));
      worker.once('exit', (code) => resolve({ error: `the verification worker exited (${code})` }));
    });

  const check = async () => {
    const started = Date.now();
    const reply = await verify();
    worker = undefined;
    if (closed) return;
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    const finished = new Date().toISOString();
    if ('error' in reply) {
      options.publish({ ok: false, code: 'ERR_SELF_CHECK', message: reply.error, finished, seconds });
      logger.error(`self-check: could not verify the log: ${reply.error}`);
      return;
    }
    const { result } = reply;
    options.publish({ ...result, finished, seconds });
    const target = { type: 'log', id: log.origin };
    try {
      if (result.ok) {
        logger.info(`self-check: ${result.size} entries verified in ${seconds} s; root ${result.root}`);
        recorded = '';
        await recordAdmin(log, 'log.verify', { actor: collectorActor(), target, details: { size: result.size, root: result.root, seconds } });
      } else {
        const where = result.index === null ? '' : ` at index ${result.index}`;
        logger.error(`self-check: the log does not verify${where}: ${result.code}: ${result.message}`);
        const finding = `${result.code} ${result.index}`;
        if (finding === recorded) return;
        recorded = finding;
        await recordAdmin(log, 'log.verify', {
          actor: collectorActor(),
          target,
          outcome: 'failure',
          reason: `the collector's verification of its own log failed${where}: ${result.code}`,
          details: { index: result.index, code: result.code, message: result.message, seconds },
        });
      }
    } catch (err) {
      logger.error({ err }, 'self-check: recording the outcome failed');
    }
  };

  if (everySeconds > 0) schedule(Math.min(FIRST_DELAY_SECONDS, everySeconds));
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await worker?.terminate();
      await running;
    },
  };
}
