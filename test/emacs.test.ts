/**
 * The Emacs package (emacs/): `make -C emacs check` byte-compiles it with
 * warnings as errors, runs checkdoc and package-lint, and runs the ERT
 * suite in batch Emacs against a real `stele serve` on loopback (the ERT
 * helpers start it). Then `stele-login` through the device flow against a
 * real OpenID provider: this test starts the provider and a collector
 * trusting it, runs the ERT login test in batch Emacs, and plays the user
 * when Emacs prints `open: URL`.
 *
 * Skipped, with a message, when `emacs` is not installed (CI installs
 * Debian's emacs-nox, elpa-package-lint and elpa-magit).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { approveDevice, startProvider, writeCollectorConfig, type TestProvider } from './oidcProvider.js';
import { BIN, ROOT, removeTempDirs, requireBuild, tempDir } from './helpers.js';

const EMACS_DIR = join(ROOT, 'emacs');
const hasEmacs = spawnSync('emacs', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasEmacs) console.warn('test/emacs.test.ts: skipped: `emacs` is not installed (apt-get install emacs-nox elpa-package-lint elpa-magit)');

/** Runs a command to its end; collects its output. */
function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; onStderr?: (all: string) => void }) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr!.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
      options.onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The environment of a child: no STELE_* of the caller's shell. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STELE_')) env[k] = v;
  return { ...env, STELE_VERIFY_EVERY_SECONDS: '0', ...extra };
}

describe.skipIf(!hasEmacs)('the Emacs package', () => {
  beforeAll(() => requireBuild()); // the ERT helpers run packages/cli/bin/stele.js and packages/log/dist

  test('make -C emacs check: compile (warnings are errors), checkdoc, package-lint, ERT', async () => {
    const result = await run('make', ['-C', EMACS_DIR, 'check'], { cwd: ROOT, env: cleanEnv() });
    const out = `${result.stdout}\n${result.stderr}`;
    if (result.code !== 0) console.error(out.slice(-20_000));
    expect(result.code).toBe(0);
    expect(out).toMatch(/checkdoc: 0 problem\(s\)/);
    expect(out).toMatch(/package-lint: 0 problem\(s\)/);
    expect(out).toMatch(/Ran \d+ tests, (\d+) results as expected, 0 unexpected/);
  }, 240_000);

  describe('stele-login against a real OpenID provider', () => {
    let provider: TestProvider;
    let server: ChildProcess;
    let url: string;

    beforeAll(async () => {
      provider = await startProvider();
      const dir = join(tempDir('emacs-login'), 'data');
      const config = join(tempDir('emacs-login-config'), 'stele.json');
      writeCollectorConfig(config, provider);
      server = spawn(process.execPath, [BIN, 'serve', '--dir', dir, '--port', '0', '--config', config], {
        cwd: ROOT, env: cleanEnv({ STELE_LOG_LEVEL: 'warn' }), stdio: ['ignore', 'pipe', 'pipe'],
      });
      server.stdout!.resume();
      url = await new Promise<string>((resolve, reject) => {
        let stderr = '';
        server.stderr!.setEncoding('utf8').on('data', (text: string) => {
          stderr += text;
          const match = /listening on (http:\/\/[^\s]+)/.exec(stderr);
          if (match) resolve(match[1]!.replace(/\/$/, ''));
        });
        server.on('exit', (code) => reject(new Error(`stele serve exited ${code}:\n${stderr}`)));
      });
    });

    afterAll(async () => {
      if (server && server.exitCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGTERM');
        await exited;
      }
      await provider?.close();
      removeTempDirs();
    });

    test('the device flow in Emacs; the events then carry the verified person; stele-log; refresh', async () => {
      let approving: Promise<void> | undefined;
      const elpa = spawnSync('sh', ['-c', 'for d in /usr/share/emacs/site-lisp/elpa/*; do printf -- "-L\\n%s\\n" "$d"; done'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      const result = await run('emacs', ['-Q', '--batch', '--eval', '(setq load-prefer-newer t)', '-L', '.', ...elpa, '-L', 'test',
        '-l', 'test/stele-login-test.el', '-f', 'ert-run-tests-batch-and-exit'], {
        cwd: EMACS_DIR,
        env: cleanEnv({ STELE_TEST_OIDC_SERVER: url, HOME: tempDir('emacs-login-home') }),
        onStderr: (all) => {
          const match = /^open: (\S+)$/m.exec(all);
          if (match && !approving) approving = approveDevice(match[1]!, 'alice');
        },
      });
      await approving;
      const out = `${result.stdout}\n${result.stderr}`;
      if (result.code !== 0) console.error(out.slice(-20_000));
      expect(approving).toBeDefined();
      expect(result.code).toBe(0);
      expect(out).toMatch(/Ran 1 tests, 1 results as expected, 0 unexpected/);
    }, 180_000);
  });
});
