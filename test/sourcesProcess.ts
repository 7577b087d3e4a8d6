/**
 * A real collector for the source tests that need one over a socket (git
 * hooks, `stele ingest --server`): `stele serve` in a child process on a free
 * loopback port, its admin token, and a clean stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, requireBuild } from './helpers.js';

/** A running `stele serve`. */
export interface Collector {
  child: ChildProcess;
  url: string;
  dir: string;
  /** The bootstrap admin token the first start wrote. */
  adminToken: string;
  stop(): Promise<void>;
}

/** The environment of a child: ours without STELE_* settings, quiet logs, no self-check (vitest.config.ts), plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STELE_') && !k.startsWith('GIT_')) env[k] = v;
  return { ...env, STELE_LOG_LEVEL: 'warn', STELE_VERIFY_EVERY_SECONDS: '0', ...extra };
}

/** Starts `stele serve --dir dir --port P` (0: a free one) and waits until it answers. */
export function startCollector(dir: string, options: { port?: number; env?: Record<string, string>; args?: string[] } = {}): Promise<Collector> {
  requireBuild();
  const child = spawn(process.execPath, [BIN, 'serve', '--dir', dir, '--port', String(options.port ?? 0), ...(options.args ?? [])], {
    cwd: ROOT,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdout!.resume();
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      stderr += text;
      const match = /listening on (http:\/\/[^\s]+) /.exec(stderr);
      if (!match) return;
      child.stderr!.removeAllListeners('data');
      child.stderr!.resume();
      const url = match[1]!;
      fetch(`${url}/healthz`).then(
        () =>
          resolve({
            child,
            url,
            dir,
            adminToken: readFileSync(join(dir, 'admin.token'), 'utf8').trim(),
            async stop() {
              if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
              await exited;
            },
          }),
        (err: unknown) => reject(err as Error),
      );
    });
    void exited.then(() => reject(new Error(`the collector exited before listening:\n${stderr}`)));
  });
}
