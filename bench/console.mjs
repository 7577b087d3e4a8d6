// The console's search as a user types, on a log of a million events (issue
// 7): builds the log through the built store in batches of 10,000, starts
// `stele serve` on it in its own process, and times the first page
// (GET /v1/events?limit=50) of each query the console sends, cold (first
// request of a fresh server process) and warm (repeated), and the facets the
// console asks for beside it (GET /v1/events/facets, the default scan of
// 10,000, and one count of 100,000). Prints one JSON object on stdout,
// progress on stderr.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { initStore, openStore } from '../packages/store/dist/index.js';
import { cleanup, now, progress, round, SELF_CHECK_OFF, startServer, stopServer, tempDir } from './lib.mjs';


const root = fileURLToPath(new URL('..', import.meta.url));
const TOTAL = Number(process.env.BENCH_CONSOLE_EVENTS ?? 1_000_000);
const BATCH = 10_000;
const ROUNDS = Number(process.env.BENCH_CONSOLE_ROUNDS ?? 3); // fresh server processes: cold runs
const WARM = Number(process.env.BENCH_CONSOLE_WARM ?? 10); // repeats per query per round
const LIMIT = 50;
const TARGET_MS = 300;
const FACET_WARM = Number(process.env.BENCH_CONSOLE_FACET_WARM ?? 3); // repeats per facet query per round
const FACET_TARGET_MS = 1000; // the table never waits for the facets; a count should still land within a second

// The log: events over the last 7 days, oldest first, from several sources.
const SPAN_MS = 7 * 24 * 3600 * 1000;
const END = Date.now();
const START = END - SPAN_MS;
const people = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'niaj', 'olivia', 'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'yolanda'];
const words = ['fix', 'flaky', 'parser', 'update', 'deps', 'rollout', 'hotfix', 'review', 'cleanup', 'refactor', 'migrate', 'schema', 'timeout', 'retry', 'cache', 'config', 'release', 'revert', 'bump', 'docs', 'lint', 'typo', 'perf', 'auth', 'token', 'rotate', 'secret', 'quota', 'scale', 'node', 'pod', 'ingress', 'bucket', 'policy', 'role', 'audit', 'backup', 'restore', 'index', 'query'];
const RARE_EVERY = 100_003; // the rare word: ~10 events in a million
const RARE_WORD = 'zeppelin';
const BOT_EVERY = 5_001; // a rare actor: ~200 events in a million
const sources = [
  { source: 'emacs', actions: ['file.save', 'file.save', 'file.save', 'file.open', 'package.install', 'package.delete', 'package.upgrade'], target: (who, i) => ({ type: 'file', id: `/home/${who}/src/project/module-${i % 97}.el`, name: `module-${i % 97}.el` }) },
  { source: 'git', actions: ['git.commit', 'git.commit', 'git.push', 'git.checkout', 'git.merge'], target: (_who, i) => ({ type: 'repository', id: `github.com/acme/service-${i % 23}`, name: `service-${i % 23}` }) },
  { source: 'kubernetes', actions: ['k8s.get', 'k8s.list', 'k8s.update', 'k8s.delete', 'k8s.exec', 'k8s.create'], target: (_who, i) => ({ type: 'pod', id: `prod/api-${i % 41}`, name: `api-${i % 41}` }) },
  { source: 'cloudtrail', actions: ['iam.assume-role', 's3.put-object', 's3.get-object', 'ec2.run-instances', 'iam.create-access-key'], target: (_who, i) => ({ type: 'aws', id: `arn:aws:s3:::acme-bucket-${i % 13}`, name: `acme-bucket-${i % 13}` }) },
  { source: 'npm', actions: ['package.install', 'package.publish', 'package.audit'], target: (_who, i) => ({ type: 'package', id: `@acme/lib-${i % 31}`, name: `lib-${i % 31}` }) },
];

/** Cheap deterministic mixing of the index, for spread-out choices. */
const mix = (i, salt) => (Math.imul(i ^ (i >>> 7), 2654435761) + Math.imul(salt, 40503)) >>> 0;

/** The i-th event of the console benchmark. */
export function consoleEvent(i) {
  const who = i % BOT_EVERY === 0 ? 'deploy-bot' : people[mix(i, 1) % people.length];
  const s = sources[mix(i, 2) % sources.length];
  const action = s.actions[mix(i, 3) % s.actions.length];
  const n = 2 + (mix(i, 4) % 4);
  const reasonWords = Array.from({ length: n }, (_, k) => words[mix(i, 5 + k) % words.length]);
  if (i % RARE_EVERY === 0) reasonWords.push(RARE_WORD);
  return {
    id: `console-${i}`,
    time: new Date(START + Math.floor((i * SPAN_MS) / TOTAL)).toISOString(),
    source: s.source,
    action,
    actor: { id: `00u${who}`, email: `${who}@example.com`, name: who[0].toUpperCase() + who.slice(1) },
    target: s.target(who, i),
    outcome: mix(i, 9) % 50 === 0 ? 'failure' : 'success',
    reason: `OPS-${1000 + (mix(i, 10) % 5000)} ${reasonWords.join(' ')}`,
    host: `${who}-laptop`,
    details: { size: 1000 + (i % 5000), branch: i % 3 === 0 ? 'main' : `feature-${i % 17}` },
  };
}

/** The queries the console sends as a user types, each a query string. */
const queries = {
  none: '',
  actor: 'actor=carol@example.com',
  actorRare: 'actor=deploy-bot@example.com',
  actionPrefix: 'action=package.*',
  source: 'source=kubernetes',
  qRare: `q=${RARE_WORD}`,
  qCommon: 'q=fix',
  since2h: 'since=2h',
  combination: 'actor=carol@example.com&action=package.*&q=fix&since=2h',
};

async function timeQuery(url, token, qs) {
  const t = now();
  const res = await fetch(`${url}/v1/events?limit=${LIMIT}${qs ? `&${qs}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.json();
  const ms = now() - t;
  if (res.status !== 200) throw new Error(`${qs}: ${res.status} ${JSON.stringify(body)}`);
  return { ms, count: body.events.length };
}

async function timeFacets(url, token, qs, scan) {
  const t = now();
  const res = await fetch(`${url}/v1/events/facets?${qs}${scan ? `&scan=${scan}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.json();
  const ms = now() - t;
  if (res.status !== 200) throw new Error(`facets ${qs}: ${res.status} ${JSON.stringify(body)}`);
  return { ms, counted: body.counted, complete: body.complete };
}

function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { p50: round(at(0.5)), p95: round(at(0.95)), max: round(s[s.length - 1]), runs: s.length };
}

const load0 = loadavg()[0];
try {
  const dir = tempDir('console');
  await initStore(dir, 'bench.example/stele');
  const store = await openStore(dir);
  progress(`appending ${TOTAL} events in batches of ${BATCH} to ${dir}`);
  const t0 = now();
  for (let i = 0; i < TOTAL; i += BATCH) {
    const events = [];
    for (let k = i; k < Math.min(i + BATCH, TOTAL); k++) events.push(consoleEvent(k));
    await store.log.append(events);
    if ((i / BATCH) % 10 === 9) progress(`  ${i + BATCH} events, ${Math.round((now() - t0) / 1000)} s`);
  }
  const buildSeconds = (now() - t0) / 1000;
  await store.log.close();

  // Baseline: the plain newest-50 on the same file.
  const db = new Database(join(dir, 'stele.db'), { readonly: true });
  const plain = db.prepare('SELECT idx, data FROM entries ORDER BY idx DESC LIMIT 50');
  const baseline = [];
  for (let r = 0; r < ROUNDS * WARM; r++) {
    const t = now();
    plain.all();
    baseline.push(now() - t);
  }
  db.close();

  // A read token, as the console holds.
  const token = execFileSync(process.execPath, ['packages/cli/bin/stele.js', 'token', 'create', '--name', 'console-bench', '--scope', 'read', '--dir', dir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();

  const cold = Object.fromEntries(Object.keys(queries).map((k) => [k, []]));
  const warm = Object.fromEntries(Object.keys(queries).map((k) => [k, []]));
  const counts = {};
  const facetCold = Object.fromEntries(Object.keys(queries).map((k) => [k, []]));
  const facetWarm = Object.fromEntries(Object.keys(queries).map((k) => [k, []]));
  const facetCounts = {};
  const wide = [];
  for (let r = 0; r < ROUNDS; r++) {
    progress(`round ${r + 1}/${ROUNDS}: starting stele serve`);
    const server = await startServer(['packages/cli/bin/stele.js', 'serve', '--dir', dir, '--port', '0', '--log-level', 'warn'], SELF_CHECK_OFF);
    try {
      // Cold: the first request of each query in this process, in a rotated order.
      const names = Object.keys(queries);
      const order = names.slice(r % names.length).concat(names.slice(0, r % names.length));
      for (const name of order) {
        const { ms, count } = await timeQuery(server.url, token, queries[name]);
        cold[name].push(ms);
        counts[name] = count;
      }
      for (let w = 0; w < WARM; w++) {
        for (const name of names) warm[name].push((await timeQuery(server.url, token, queries[name])).ms);
      }
      // The facets of each query (scan 10,000, the console's default), then one count of 100,000.
      for (const name of order) {
        const { ms, counted, complete } = await timeFacets(server.url, token, queries[name]);
        facetCold[name].push(ms);
        facetCounts[name] = { counted, complete };
      }
      for (let w = 0; w < FACET_WARM; w++) {
        for (const name of names) facetWarm[name].push((await timeFacets(server.url, token, queries[name])).ms);
      }
      wide.push((await timeFacets(server.url, token, '', 100_000)).ms);
    } finally {
      await stopServer(server.child);
    }
  }

  const results = {};
  for (const name of Object.keys(queries)) {
    const c = stats(cold[name]);
    const w = stats(warm[name]);
    const worst = Math.max(c.max, w.max);
    results[name] = { query: queries[name] || '(no filter)', events: counts[name], cold: c, warm: w, pass: worst < TARGET_MS };
  }
  const facets = {};
  for (const name of Object.keys(queries)) {
    const c = stats(facetCold[name]);
    const w = stats(facetWarm[name]);
    facets[name] = { query: queries[name] || '(no filter)', ...facetCounts[name], cold: c, warm: w, pass: Math.max(c.max, w.max) < FACET_TARGET_MS };
  }
  const out = {
    machine: { node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, memoryGB: round(totalmem() / 2 ** 30), load1: [round(load0), round(loadavg()[0])] },
    log: { events: TOTAL, batch: BATCH, buildSeconds: round(buildSeconds), spanDays: 7 },
    limit: LIMIT,
    targetMs: TARGET_MS,
    baselinePlainSelectMs: stats(baseline),
    queries: results,
    facets: { scan: 10_000, targetMs: FACET_TARGET_MS, queries: facets, scan100000NoFilterMs: stats(wide) },
    pass: Object.values(results).every((r) => r.pass),
    facetsPass: Object.values(facets).every((r) => r.pass),
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
} finally {
  cleanup();
}
