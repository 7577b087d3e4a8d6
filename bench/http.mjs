// HTTP load against a real `stele serve` in its own process, over loopback,
// with autocannon; and the same load against a bare Fastify route (bench/
// bare-server.mjs) as the ceiling. Prints one JSON object.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { benchEvent } from './events.mjs';
import { startServer, stopServer } from './lib.mjs';

const log = (m) => process.stderr.write(`[http] ${m}\n`);
const seconds = Number(process.env.BENCH_HTTP_SECONDS ?? 8);

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

function summary(result, eventsPerRequest) {
  const ok = result['2xx'];
  return {
    requestsPerSec: Math.round(ok / result.duration),
    eventsPerSec: Math.round((ok * eventsPerRequest) / result.duration),
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function scenario(url, token, name, eventsPerRequest, connections, extra = {}) {
  log(`${name}: ${eventsPerRequest} events/request, ${connections} connections`);
  const result = await run({
    url: `${url}/v1/events`,
    method: 'POST',
    connections,
    pipelining: 1,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body(eventsPerRequest),
    ...extra,
  });
  return summary(result, eventsPerRequest);
}

async function measure(url, token) {
  const batch100 = await scenario(url, token, 'batch100', 100, 8);
  const single64 = await scenario(url, token, 'single64', 1, 64);
  // Half of the single-event maximum, paced: the time from request to signed checkpoint.
  const rate = Math.max(1, Math.floor(single64.requestsPerSec / 2));
  const halfLoad = await scenario(url, token, `half load (${rate} req/s)`, 1, 64, { overallRate: rate });
  return { batch100, single64, halfLoad: { ...halfLoad, targetRate: rate } };
}

const dir = mkdtempSync(join(tmpdir(), 'stele-bench-http-'));
try {
  const stele = await startServer(['packages/cli/bin/stele.js', 'serve', '--dir', dir, '--port', '0', '--log-level', 'warn']);
  const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
  const steleResult = await measure(stele.url, token);
  await stopServer(stele.child);

  const bare = await startServer(['bench/bare-server.mjs']);
  const bareResult = await measure(bare.url, undefined);
  await stopServer(bare.child);

  const ratio = (a, b) => (b ? +(a / b).toFixed(3) : null);
  const out = {
    seconds,
    stele: steleResult,
    bareFastify: bareResult,
    ratioToBare: {
      batch100: ratio(steleResult.batch100.eventsPerSec, bareResult.batch100.eventsPerSec),
      single64: ratio(steleResult.single64.eventsPerSec, bareResult.single64.eventsPerSec),
    },
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
