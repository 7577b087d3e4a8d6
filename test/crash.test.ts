/**
 * The crash test: a child process appends from concurrent loops and is killed
 * with SIGKILL at a random moment, again and again on the same log. After
 * every kill the log must verify, and every id the child acknowledged (wrote
 * to stdout after `append` resolved) must be in it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { initStore, openStore, verifyLog } from '@stele/store';
import { removeTempDirs, requireBuild, tempDir } from './helpers.js';

const APPENDER = fileURLToPath(new URL('./fixtures/appender.mjs', import.meta.url));
const RUNS = 20;
const LOOPS = 3;

let dir: string;

beforeAll(async () => {
  requireBuild(); // the child imports packages/store/dist
  dir = join(tempDir('crash'), 'log');
  await initStore(dir, 'example.com/crash');
});

afterAll(removeTempDirs);

interface Killed {
  acked: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts the appender, kills it 50 to 500 ms after its first acknowledgement, and collects what it acknowledged. */
function runAndKill(run: number): Promise<Killed> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [APPENDER, dir, String(run), String(LOOPS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let pending = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    // A child that never acknowledges is killed too; the test then fails on the empty list.
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      const lines = (pending + text).split('\n');
      pending = lines.pop()!; // only whole lines are acknowledgements
      acked.push(...lines.filter((l) => l !== ''));
      if (timer === undefined && acked.length > 0) timer = setTimeout(() => child.kill('SIGKILL'), 50 + Math.random() * 450);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      clearTimeout(timer);
      resolve({ acked, code, signal, stderr });
    });
  });
}

test(`${RUNS} runs killed with SIGKILL mid-append: the log verifies and keeps every acknowledged event`, async () => {
  let size = 0;
  for (let run = 0; run < RUNS; run++) {
    const killed = await runAndKill(run);
    // It died of our SIGKILL, not on its own (an append error would end it with a code).
    expect({ run, signal: killed.signal, code: killed.code, stderr: killed.stderr }).toEqual({ run, signal: 'SIGKILL', code: null, stderr: '' });
    expect(killed.acked.length).toBeGreaterThan(0);
    expect(new Set(killed.acked).size).toBe(killed.acked.length);

    const store = await openStore(dir, { mode: 'read' });
    try {
      const result = await verifyLog({ driver: store.log.driver, verifier: store.verifier, origin: store.log.origin });
      expect({ run, ...result }).toMatchObject({ run, ok: true, size: store.log.size() });
      const found = await store.log.driver.findIds(killed.acked);
      expect({ run, missing: killed.acked.filter((id) => !found.has(id)) }).toEqual({ run, missing: [] });
      // The acknowledged ids are new in this run, so the log grew by at least as many.
      expect(store.log.size()).toBeGreaterThanOrEqual(size + killed.acked.length);
      size = store.log.size();
    } finally {
      await store.log.close();
    }
  }
  expect(size).toBeGreaterThan(0);
}, 120_000);
