// Shared helpers of the benchmarks: temporary data directories, timing,
// medians, progress on stderr.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const dirs = [];

/** A fresh temporary directory, removed by {@link cleanup}. */
export function tempDir(name) {
  const dir = mkdtempSync(join(tmpdir(), `stele-bench-${name}-`));
  dirs.push(dir);
  return dir;
}

/** Removes one temporary directory now (large logs fill /tmp otherwise). */
export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  const at = dirs.indexOf(dir);
  if (at >= 0) dirs.splice(at, 1);
}

/** Removes every temporary directory still there. */
export function cleanup() {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export const now = () => performance.now();

/** Progress for humans, on stderr (stdout carries the JSON). */
export function progress(message) {
  process.stderr.write(`[bench] ${message}\n`);
}

/** The median of numbers. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Rounds to a few significant digits for the report. */
export function round(value, digits = 3) {
  if (!Number.isFinite(value) || value === 0) return value;
  const scale = 10 ** Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(value))));
  return Math.round(value * scale) / scale;
}

/** The median of rates and every one of them, rounded. */
export function summary(rates) {
  return { median: round(median(rates)), runs: rates.map((r) => round(r)) };
}

/**
 * The environment that turns `stele serve`'s check of its own log off: it runs
 * every 6 hours, the first 10 s after the start, so it would land inside the
 * measured load; it is upkeep, not ingest or search.
 */
export const SELF_CHECK_OFF = { STELE_VERIFY_EVERY_SECONDS: '0' };

/**
 * Starts a node process from the repository root that announces its URL
 * (`stele serve` on stderr, the bare server on stdout); resolves with it.
 */
export function startServer(args, env = {}) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let seen = '';
    const look = (chunk) => {
      seen += chunk;
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (m) resolve({ child, url: m[1] });
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${seen}`)));
  });
}

/** Stops a process started by {@link startServer} with SIGTERM and waits for it. */
export function stopServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

const CLOCK_TICKS = 100; // USER_HZ, 100 on every Linux architecture Node runs on

/**
 * CPU milliseconds (user + system) from a /proc `stat` file: a process's
 * (`/proc/PID/stat`) or a thread's (`/proc/self/task/TID/stat`); undefined
 * where there is none (not Linux, or the process or thread has ended).
 */
export function cpuMillisOf(statPath) {
  try {
    const stat = readFileSync(statPath, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * CPU milliseconds each thread of a process (this one unless `pid` is
 * given) has used so far, by thread id, from /proc (Linux); an empty map
 * elsewhere.
 */
export function threadCpu(pid = 'self') {
  const out = new Map();
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const ms = cpuMillisOf(`/proc/${pid}/task/${tid}/stat`);
    if (ms !== undefined) out.set(Number(tid), ms); // else the thread ended
  }
  return out;
}

/**
 * CPU µs per event between two {@link threadCpu} readings: the main thread
 * (the log service; its thread id is the process id, this process's unless
 * `pid` is given), the busiest other thread (the store's writer thread while
 * appending) and the rest (V8's garbage-collection and compiler helpers,
 * libuv); undefined off Linux.
 */
export function cpuPerEvent(before, after, events, pid = process.pid) {
  if (after.size === 0) return undefined;
  let main = 0;
  const others = [];
  for (const [tid, ms] of after) {
    const used = ms - (before.get(tid) ?? 0);
    if (tid === pid) main = used;
    else if (used > 0) others.push(used);
  }
  others.sort((a, b) => b - a);
  const per = (ms) => round((ms * 1000) / events);
  return { serviceThread: per(main), writerThread: per(others[0] ?? 0), otherThreads: per(others.slice(1).reduce((a, b) => a + b, 0)) };
}
