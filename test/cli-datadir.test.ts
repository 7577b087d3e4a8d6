/**
 * A data directory the command cannot use, through the real built binary:
 * bad, unwritable or unreadable `--dir` paths and a record whose stored
 * bytes were edited all end in exit 2 and one line on stderr naming the
 * path (or entry) and the reason, never a stack trace or a hang.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openStore } from '@stele/store';
import { BIN, ROOT, removeTempDirs, requireBuild, seedLog, stele, tamper, tempDir, type RunResult } from './helpers.js';

beforeAll(requireBuild);
afterAll(removeTempDirs);

/**
 * How to be a user the mode bits stop: as root (who reads and writes through
 * them), run the command as nobody (uid 65534) with setpriv; as anyone else,
 * the bits stop us already. Undefined when neither works.
 */
const other: 'nobody' | 'self' | undefined =
  process.getuid === undefined ? undefined
  : process.getuid() !== 0 ? 'self'
  : spawnSync('setpriv', ['--version']).status === 0 ? 'nobody'
  : undefined;

/** Runs `stele`, as nobody when asked; a process still running after `timeout` ms is killed (code null). */
function run(args: readonly string[], options: { asNobody?: boolean; timeout?: number } = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.STELE_DIR;
  const node = [process.execPath, BIN, ...args];
  const [command, ...argv] = options.asNobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...node] : node;
  return new Promise((resolve, reject) => {
    const child = spawn(command!, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeout ?? 20_000, killSignal: 'SIGKILL' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** A temporary directory holding a regular file named `file`; the directory is searchable by nobody. */
function withFile(): { base: string; file: string } {
  const base = tempDir('datadir');
  chmodSync(base, 0o755);
  const file = join(base, 'file');
  writeFileSync(file, 'not a directory\n');
  return { base, file };
}

describe('a --dir that cannot be created', () => {
  test.each([
    ['init', (file: string) => join(file, 'x')],
    ['demo', (file: string) => join(file, 'x')],
    ['serve', (file: string) => join(file, 'x')],
    ['serve', (file: string) => file],
  ])('%s under a regular file: exit 2, one line naming the path and ENOTDIR, nothing created', async (command, dirOf) => {
    const { base, file } = withFile();
    const dir = dirOf(file);
    const result = await stele([command, '--dir', dir, ...(command === 'serve' ? ['--port', '0'] : [])]);
    expect(result).toEqual({ code: 2, stdout: '', stderr: `stele ${command}: cannot create the data directory ${dir}: not a directory (ENOTDIR)\n` });
    expect(readdirSync(base)).toEqual(['file']);
  });

  test.skipIf(!existsSync('/proc/self'))('init under /proc (where recursive mkdir spins forever) answers at once: exit 2, ENOENT', async () => {
    const result = await run(['init', '--dir', '/proc/stele-nope'], { timeout: 10_000 });
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'stele init: cannot create the data directory /proc/stele-nope: no such file or directory (ENOENT)\n' });
  });

  test.skipIf(other === undefined)(`init under a read-only parent (as ${other ?? 'nobody: needs setpriv when root'}): exit 2, EACCES, nothing created`, async () => {
    const { base } = withFile();
    const parent = join(base, 'ro');
    mkdirSync(parent, { mode: 0o755 });
    if (other === 'self') chmodSync(parent, 0o555);
    const dir = join(parent, 'log');
    const result = await run(['init', '--dir', dir], { asNobody: other === 'nobody' });
    chmodSync(parent, 0o755);
    expect(result).toEqual({ code: 2, stdout: '', stderr: `stele init: cannot create the data directory ${dir}: permission denied (EACCES)\n` });
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe('a log that cannot be read', () => {
  test.skipIf(other === undefined)(`verify, query and init on a 0700 directory of another user (as ${other ?? 'nobody: needs setpriv when root'}): unreadable, not missing`, async () => {
    const { base } = withFile();
    const dir = join(base, 'log');
    await seedLog(dir, 3);
    if (other === 'self') chmodSync(dir, 0o000);
    const asNobody = other === 'nobody';
    const line = `cannot read the data directory ${dir}: permission denied (EACCES)\n`;
    try {
      expect(await run(['verify', '--dir', dir], { asNobody })).toEqual({ code: 2, stdout: '', stderr: `stele verify: ${line}` });
      expect(await run(['query', '--dir', dir], { asNobody })).toEqual({ code: 2, stdout: '', stderr: `stele query: ${line}` });
      expect(await run(['init', '--dir', dir], { asNobody })).toEqual({ code: 2, stdout: '', stderr: `stele init: ${line}` });
    } finally {
      chmodSync(dir, 0o700);
    }
  });

  test.skipIf(other === undefined)(`verify with stele.db unreadable in a searchable directory (as ${other ?? 'nobody: needs setpriv when root'}): names stele.db`, async () => {
    const { base } = withFile();
    const dir = join(base, 'log');
    await seedLog(dir, 3);
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'stele.db'), other === 'self' ? 0o000 : 0o600);
    const result = await run(['verify', '--dir', dir], { asNobody: other === 'nobody' });
    chmodSync(join(dir, 'stele.db'), 0o600);
    expect(result).toEqual({ code: 2, stdout: '', stderr: `stele verify: cannot read ${join(dir, 'stele.db')}: permission denied (EACCES)\n` });
  });
});

describe('an entry whose stored bytes are not a record', () => {
  test('query exits 2 naming the entry; verify reports the failed check (exit 1); reads throw ERR_STORE_CORRUPT', async () => {
    const dir = join(tempDir('datadir'), 'log');
    await seedLog(dir, 10);
    tamper(dir, (db) => expect(db.prepare("UPDATE entries SET data = CAST('{\"broken' AS BLOB) WHERE idx = 3").run().changes).toBe(1));

    for (const format of [[], ['--json']]) {
      expect(await stele(['query', '--dir', dir, ...format])).toEqual({ code: 2, stdout: '', stderr: 'stele query: entry 3 is not a valid record (run stele verify)\n' });
    }
    const verified = await stele(['verify', '--dir', dir]);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(/^FAILED at index 3: /);

    const store = await openStore(dir, { mode: 'read' });
    try {
      const corrupt = { code: 'ERR_STORE_CORRUPT', message: 'entry 3 is not a valid record (run stele verify)' };
      await expect(store.log.entry(3)).rejects.toMatchObject(corrupt);
      await expect(store.log.entryById('seed-3')).rejects.toMatchObject(corrupt);
      await expect(store.log.query({ limit: 100 })).rejects.toMatchObject(corrupt);
      expect((await store.log.entry(4)).record.id).toBe('seed-4');
    } finally {
      await store.log.close();
    }
  });
});
