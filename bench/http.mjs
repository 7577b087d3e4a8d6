// HTTP load against a real `stele serve` in its own process, over loopback,
// with autocannon; and the same load against a bare Fastify route (bench/
// bare-server.mjs) as the ceiling. Prints one JSON object.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { benchEvent } from './events.mjs';
import { cpuMillisOf, cpuPerEvent, SELF_CHECK_OFF, startServer, stopServer, threadCpu } from './lib.mjs';


const log = (m) => process.stderr.write(`[http] ${m}\n`);
const seconds = Number(process.env.BENCH_HTTP_SECONDS ?? 8);
// BENCH_HTTP_BARE=0 skips the bare Fastify ceiling (to compare two builds back to back).
const withBare = process.env.BENCH_HTTP_BARE !== '0';

/**
 * CPU microseconds a process has used (user + system), from /proc on Linux;
 * undefined elsewhere. Throughput on a shared machine depends on what else
 * runs; the server's CPU per request depends much less on it.
 */
function cpuOf(pid) {
  const ms = cpuMillisOf(`/proc/${pid}/stat`);
  return ms === undefined ? undefined : ms * 1000;
}

/** Starts a process that prints its URL (bare server) or says "listening on URL" (stele serve). */
function run(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ ...opts, duration: opts.duration ?? seconds }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const body = (n, from = 0) => JSON.stringify(Array.from({ length: n }, (_, i) => {
  const { id: _id, ...event } = benchEvent(from + i); // no ids: every request appends
  return event;
}));

/**
 * The server's CPU: per request and per event (all its threads), and per
 * event by thread (its main thread, the busiest other: the store's writer
 * thread, and the rest), with the share of the time its main thread was busy.
 */
function serverCpu(cpuUs, threads, ok, eventsPerRequest, seconds) {
  if (cpuUs === undefined || ok === 0) return undefined;
  const events = ok * eventsPerRequest;
  const byThread = threads && cpuPerEvent(threads.before, threads.after, events, threads.pid);
  return {
    perRequest: +(cpuUs / ok).toFixed(1),
    perEvent: +(cpuUs / events).toFixed(2),
    ...(byThread && {
      perEventByThread: { main: byThread.serviceThread, writer: byThread.writerThread, other: byThread.otherThreads },
      mainThreadBusy: +((byThread.serviceThread * events) / (seconds * 1e6)).toFixed(2),
    }),
  };
}

function summary(result, eventsPerRequest, cpuUs, threads) {
  const ok = result['2xx'];
  const cpu = serverCpu(cpuUs, threads, ok, eventsPerRequest, result.duration);
  return {
    ...(cpu && { serverCpuUs: cpu }),
    requestsPerSec: Math.round(ok / result.duration),
    eventsPerSec: Math.round((ok * eventsPerRequest) / result.duration),
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/**
 * Bodies whose device events come in sequence, as a real client's do: each
 * request numbers four devices of its own 1, 2, 3 ... (batch100 sends the
 * same numbers again and again, which the device tracker counts as late).
 */
function sequencedBodies(n) {
  // Only the devices' ids differ from one request to the next: the body is made once, with a
  // mark where the request's number goes, so that the load generator (on the same two cores)
  // spends little on each body.
  const MARK = '@request@';
  const parts = JSON.stringify(Array.from({ length: n }, (_, i) => {
    const { id: _id, ...event } = benchEvent(i);
    return { ...event, device: { id: `bench-${MARK}-${i % 4}`, seq: Math.floor(i / 4) + 1 } };
  })).split(MARK);
  let request = 0;
  return () => parts.join(String(request++));
}

/** Load on POST /v1/events: `connections` sending `eventsPerRequest` events a request (autocannon's options in `extra`). */
function load(url, token, eventsPerRequest, connections, extra = {}) {
  return run({
    url: `${url}/v1/events`,
    method: 'POST',
    connections,
    pipelining: 1,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body(eventsPerRequest),
    ...extra,
  });
}

async function scenario({ url, pid }, token, name, eventsPerRequest, connections, extra = {}) {
  log(`${name}: ${eventsPerRequest} events/request, ${connections} connections`);
  const before = cpuOf(pid);
  const threadsBefore = threadCpu(pid);
  const result = await load(url, token, eventsPerRequest, connections, extra);
  const after = cpuOf(pid);
  const threads = { pid, before: threadsBefore, after: threadCpu(pid) };
  return summary(result, eventsPerRequest, before === undefined || after === undefined ? undefined : after - before, threads);
}

/**
 * Connections for the batch scenarios: enough requests in flight that the
 * server, not the round trips, sets the rate. With 8, each of the server's two
 * threads waits about a third of the time for the next request (the commit
 * pipeline empties between replies): 57k-62k events/s, against 60k-72k with
 * 16, 32 or 64 (docs/PERFORMANCE.md, session 6). A collector has many more clients.
 */
const BATCH_CONNECTIONS = 32;
/** Seconds of load before the measured scenarios, not reported: V8 compiles the hot paths in the first. */
const WARMUP_SECONDS = Number(process.env.BENCH_HTTP_WARMUP ?? 3);

async function measure(server, token) {
  if (WARMUP_SECONDS > 0) {
    log(`warm-up: ${WARMUP_SECONDS} s of 100 events/request`);
    await load(server.url, token, 100, BATCH_CONNECTIONS, { duration: WARMUP_SECONDS });
  }
  const batch100 = await scenario(server, token, 'batch100', 100, BATCH_CONNECTIONS);
  const next = sequencedBodies(100);
  const batch100Sequenced = await scenario(server, token, 'batch100Sequenced', 100, BATCH_CONNECTIONS, { requests: [{ setupRequest: (req) => ({ ...req, body: next() }) }] });
  const single64 = await scenario(server, token, 'single64', 1, 64);
  // Half of the single-event maximum, paced: the time from request to signed checkpoint.
  const rate = Math.max(1, Math.floor(single64.requestsPerSec / 2));
  const halfLoad = await scenario(server, token, `half load (${rate} req/s)`, 1, 64, { overallRate: rate });
  // The load earlier sessions measured with: too few requests in flight to keep both threads busy.
  const batch100Conn8 = await scenario(server, token, 'batch100Conn8', 100, 8);
  return { batch100: { ...batch100, connections: BATCH_CONNECTIONS }, batch100Conn8: { ...batch100Conn8, connections: 8 }, batch100Sequenced, single64, halfLoad: { ...halfLoad, targetRate: rate } };
}

const loadAtStart = loadavg()[0];
const dir = mkdtempSync(join(tmpdir(), 'stele-bench-http-'));
try {
  const stele = await startServer(['packages/cli/bin/stele.js', 'serve', '--dir', dir, '--port', '0', '--log-level', 'warn'], SELF_CHECK_OFF);
  const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
  const steleResult = await measure({ url: stele.url, pid: stele.child.pid }, token);
  await stopServer(stele.child);

  let bareResult;
  if (withBare) {
    const bare = await startServer(['bench/bare-server.mjs']);
    bareResult = await measure({ url: bare.url, pid: bare.child.pid }, undefined);
    await stopServer(bare.child);
  }

  const ratio = (a, b) => (b ? +(a / b).toFixed(3) : null);
  const out = {
    seconds,
    warmupSeconds: WARMUP_SECONDS,
    // Other processes on the machine: the throughput figures depend on them, serverCpuUs less.
    loadAverage1m: { start: +loadAtStart.toFixed(2), end: +loadavg()[0].toFixed(2) },
    stele: steleResult,
    ...(bareResult && {
      bareFastify: bareResult,
      ratioToBare: {
        batch100: ratio(steleResult.batch100.eventsPerSec, bareResult.batch100.eventsPerSec),
        single64: ratio(steleResult.single64.eventsPerSec, bareResult.single64.eventsPerSec),
      },
    }),
    targets: {
      batch100EventsPerSec: { target: 60_000, value: steleResult.batch100.eventsPerSec, met: steleResult.batch100.eventsPerSec >= 60_000 },
      single64EventsPerSec: { target: 12_000, value: steleResult.single64.eventsPerSec, met: steleResult.single64.eventsPerSec >= 12_000 },
      halfLoadP99Ms: { target: 250, value: steleResult.halfLoad.latencyMs.p99, met: steleResult.halfLoad.latencyMs.p99 <= 250 },
    },
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
