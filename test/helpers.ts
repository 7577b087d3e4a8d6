/**
 * Shared helpers of the end-to-end tests: run the real, built `stele`
 * command in a child process, make and remove temporary directories, and
 * seed a log with realistic events.
 *
 * The tests spawn `packages/cli/bin/stele.js`, which runs the built `dist/`;
 * `npm test` builds before it runs Vitest, so the helpers only check that the
 * build is there and say how to make it when it is not.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { hasStore, initStore, openStore } from '@stele/store';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The command as installed: it imports `packages/cli/dist/index.js`. */
export const BIN = join(ROOT, 'packages/cli/bin/stele.js');
const DIST = join(ROOT, 'packages/cli/dist/index.js');

/** Throws a clear message unless the CLI was built (`npx tsc --build`). */
export function requireBuild(): void {
  if (!existsSync(DIST)) {
    throw new Error(`${DIST} is missing: build first (npm run build, or npx tsc --build), or run npm test, which builds`);
  }
}

/** What a finished `stele` process left behind. */
export interface RunResult {
  /** The exit code; null if a signal ended it. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How to run `stele`. */
export interface RunOptions {
  /** The working directory (default: the repository root). */
  cwd?: string;
  /**
   * Variables added to the environment. STELE_DIR is removed from the
   * inherited environment unless given here, so the caller's shell never
   * picks the data directory.
   */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed (stdin is closed empty without it). */
  input?: string | Uint8Array;
}

/** Runs `node packages/cli/bin/stele.js ...args` and collects its exit code and output. */
export function stele(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  requireBuild();
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.STELE_DIR;
  Object.assign(env, options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env, stdio: 'pipe' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined); // a command that exits before reading stdin
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `stele` with `--json` output expected: parses stdout as one JSON value. */
export async function steleJson<T = Record<string, unknown>>(args: readonly string[], options: RunOptions = {}): Promise<RunResult & { json: T }> {
  const result = await stele(args, options);
  let json: T;
  try {
    json = JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stele ${args.join(' ')} exited ${result.code} without JSON on stdout:\n${result.stdout}\n${result.stderr}`);
  }
  return { ...result, json };
}

/** A loopback port no one listens on now, for a server whose address must be known before it starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** POSTs `events` (one or an array) to the collector at `url` with `token`, as JSON. */
export function postEvents(url: string, token: string, events: unknown): Promise<Response> {
  return fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });
}

/** A new read-scoped API token named `name`, made with `stele token create` on the log in `dir`. */
export async function createReadToken(dir: string, name = 'console'): Promise<string> {
  return (await steleJson<{ token: string }>(['token', 'create', '--dir', dir, '--name', name, '--scope', 'read', '--json'])).json.token;
}

const made: string[] = [];

/** A new empty temporary directory, removed by {@link removeTempDirs}. */
export function tempDir(label = 'e2e'): string {
  const dir = mkdtempSync(join(tmpdir(), `stele-${label}-`));
  made.push(dir);
  return dir;
}

/** Removes every directory {@link tempDir} made (call it in afterAll). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

const SOURCES = ['emacs', 'git', 'kubernetes'] as const;
const ACTORS = ['alice', 'bob', 'carol'] as const;
/** The fixed instant the seeded events start at, one second apart. */
export const SEED_EPOCH = Date.UTC(2025, 5, 2, 12, 0, 0);

/** The id the seed gives event `i`. */
export const seedId = (i: number): string => `seed-${i}`;

/**
 * The `i`-th seeded event, deterministic: the three sources and actions, the
 * actors alice, bob and carol @example.com, a target of the right kind, a
 * device sequence, a reason on every fourth event, a client id and a time.
 */
export function seedEvent(i: number): Record<string, unknown> {
  const source = SOURCES[i % 3]!;
  const who = ACTORS[Math.floor(i / 3) % 3]!;
  const actor = { id: who, email: `${who}@example.com`, name: who[0]!.toUpperCase() + who.slice(1) };
  const common = {
    id: seedId(i),
    time: new Date(SEED_EPOCH + i * 1000).toISOString(),
    source,
    actor,
    outcome: i % 7 === 6 ? 'failure' : 'success',
    host: `${who}-laptop`,
    device: { id: `${source}-${who}`, seq: i + 1 },
    ...(i % 4 === 0 ? { reason: `ticket OPS-${1000 + i}: routine change` } : {}),
  };
  switch (source) {
    case 'emacs':
      return i % 2 === 0
        ? { ...common, action: 'file.save', target: { type: 'file', id: `/home/${who}/src/stele/f${i}.ts`, name: `f${i}.ts` }, details: { mode: 'typescript-ts-mode', bytes: 1000 + i } }
        : { ...common, action: 'package.install', target: { type: 'package', id: `elpa/magit-${i}`, name: 'magit' }, details: { archive: 'melpa' } };
    case 'git':
      return { ...common, action: 'vc.commit', target: { type: 'repository', id: `git@example.com:ops/repo${i % 5}.git`, name: `repo${i % 5}` }, details: { branch: 'main', files: i % 9 } };
    default:
      return { ...common, action: 'package.install', target: { type: 'pods', id: `prod/web-${i}`, name: `web-${i}` }, details: { namespace: 'prod', chart: 'web' } };
  }
}

/** Options of {@link seedLog}. */
export interface SeedOptions {
  /** The origin of a new log. */
  origin?: string;
  /** The number of the first seeded event (default 0); continue a log with its size. */
  from?: number;
  /** Events per append, each its own group commit with its own history checkpoint (default 100). */
  batch?: number;
}

/**
 * Creates a log in `dir` with `initStore` unless one is there, then appends
 * `count` seeded events in batches, with every batch's checkpoint kept in the
 * history (`historyInterval: 0`), and closes it: on disk there is then only
 * `stele.db` (the WAL is checkpointed on close) and the two key files.
 */
export async function seedLog(dir: string, count: number, options: SeedOptions = {}): Promise<{ verifierKey: string; size: number }> {
  if (!hasStore(dir)) await initStore(dir, options.origin ?? 'example.com/stele-e2e');
  const from = options.from ?? 0;
  const batch = options.batch ?? 100;
  const store = await openStore(dir, { historyInterval: 0 });
  try {
    for (let i = from; i < from + count; i += batch) {
      const n = Math.min(batch, from + count - i);
      await store.log.append(Array.from({ length: n }, (_, k) => seedEvent(i + k)));
    }
    return { verifierKey: store.verifierKey, size: store.log.size() };
  } finally {
    await store.log.close();
  }
}

/**
 * Opens a log's SQLite file directly, as an attacker with file access would,
 * and drops every trigger (the append-only guards) first.
 */
export function openRaw(dir: string): Database.Database {
  const db = new Database(join(dir, 'stele.db'));
  const triggers = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[];
  for (const name of triggers) db.exec(`DROP TRIGGER "${name}"`);
  return db;
}

/** Edits the SQLite file of a log with the guards dropped, then closes it. */
export function tamper(dir: string, edit: (db: Database.Database) => void): void {
  const db = openRaw(dir);
  try {
    edit(db);
  } finally {
    db.close();
  }
}
