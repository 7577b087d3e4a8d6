/**
 * The collector as it runs: `stele serve` in a child process, spoken to over
 * real loopback sockets. First start, self-audit events, tokens managed while
 * it runs, the refusal to serve a public address without auth, the static
 * tile API verified by an independent client, the event stream, SIGKILL and
 * SIGTERM during sustained ingest, slow and oversized clients.
 *
 * Every server is started on port 0 and its address read from its
 * "listening on" line; every one still running is killed after each test.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest, get as httpGet, type IncomingMessage } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createHasher, createVerifier, fromUtf8, verifyTiledLog, type EventRecord } from '@stele/log';
import { hasStore, openStore } from '@stele/store';
import { BIN, ROOT, removeTempDirs, requireBuild, stele, steleJson, tempDir } from './helpers.js';

const hasher = createHasher((data) => new Uint8Array(createHash('sha256').update(data).digest()));

interface Server {
  child: ChildProcess;
  url: string;
  stderr(): string;
  /** The structured logs (JSON lines) so far. */
  stdout(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** The environment of a child: ours without STELE_* settings, quiet logs, plus `extra`. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STELE_')) env[k] = v;
  return { ...env, STELE_LOG_LEVEL: 'warn', ...extra };
}

/** Starts `stele serve --dir dir --port 0` and waits for its address. */
function startServer(dir: string, env: Record<string, string> = {}, args: string[] = []): Promise<Server> {
  const child = spawn(process.execPath, [BIN, 'serve', '--dir', dir, '--port', '0', ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  let stdout = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (text: string) => (stdout += text)); // structured logs: read so the pipe never fills
  let ready = false;
  return new Promise((resolve, reject) => {
    const watchdog = setTimeout(() => reject(new Error(`the collector did not start:\n${stderr}`)), 20_000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      stderr += text;
      const match = /listening on (http:\/\/[^\s]+) /.exec(stderr);
      if (match && !ready) {
        ready = true;
        clearTimeout(watchdog);
        // One round trip first: the line is printed before serve.ts installs its
        // SIGTERM handler (see the test.fails below), and an answered request
        // means the child has run past that point.
        const url = match[1]!;
        fetch(`${url}/healthz`).then(
          () => resolve({ child, url, stderr: () => stderr, stdout: () => stdout, exited }),
          (err: unknown) => reject(err as Error),
        );
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(watchdog);
      reject(new Error(`the collector exited (${code ?? signal}) before listening:\n${stderr}`));
    });
  });
}

/** Sends SIGTERM and waits for the exit. */
async function stop(server: Server): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  server.child.kill('SIGTERM');
  return server.exited;
}

afterEach(async () => {
  const left = [...running];
  for (const child of left) child.kill('SIGKILL');
  await Promise.all(left.map((child) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)))));
});

beforeAll(() => requireBuild());
afterAll(() => removeTempDirs());

const adminToken = (dir: string) => readFileSync(join(dir, 'admin.token'), 'utf8').trim();

/** A new token made with the CLI (which also records token.create in the log). */
async function createToken(dir: string, name: string, scope: string): Promise<string> {
  const result = await steleJson<{ token: string }>(['token', 'create', '--dir', dir, '--name', name, '--scope', scope, '--json']);
  expect(result.code).toBe(0);
  return result.json.token;
}

const ev = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  time: '2026-01-02T03:04:05.000Z',
  source: 'emacs',
  action: 'file.save',
  actor: { id: 'ada' },
  target: { type: 'file', id: `/f/${id}` },
  ...extra,
});

function postEvents(url: string, token: string, events: unknown[]): Promise<Response> {
  return fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });
}

const errorCode = async (res: Response) => ((await res.json()) as { error?: { code?: string } }).error?.code;

/** The log's own records (`stele query --source stele --json`), newest first. */
async function selfAudit(dir: string): Promise<EventRecord[]> {
  const result = await stele(['query', '--dir', dir, '--source', 'stele', '--json', '--limit', '1000']);
  expect(result.code).toBe(0);
  return result.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as EventRecord);
}

async function verifies(dir: string): Promise<void> {
  const result = await steleJson<{ ok: boolean }>(['verify', '--dir', dir, '--json']);
  expect(result.json).toMatchObject({ ok: true });
  expect(result.code).toBe(0);
}

describe('lifecycle', () => {
  test('first start creates the log, a 0600 admin token and the verifier key; starts, stops, config changes and tokens are audited', async () => {
    const dir = join(tempDir('srv-life'), 'stele-data');
    const first = await startServer(dir);
    const verifierKey = readFileSync(join(dir, 'verifier.key'), 'utf8').trim();
    expect(first.stderr()).toContain(verifierKey);
    expect(statSync(join(dir, 'admin.token')).mode & 0o777).toBe(0o600);
    // The databases and their WAL files are the owner's only, as the keys are.
    const databases = readdirSync(dir).filter((f) => /\.db(-wal|-shm)?$/.test(f));
    expect(databases).toEqual(expect.arrayContaining(['stele.db', 'auth.db', 'devices.db', 'stele.db-wal']));
    for (const f of databases) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
    const admin = adminToken(dir);
    const log = (await (await fetch(`${first.url}/v1/log`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { verifierKey: string; size: number };
    expect(log.verifierKey).toBe(verifierKey);
    expect(log.size).toBe(2); // the bootstrap admin token's token.create, collector.start
    expect(await stop(first)).toEqual({ code: 0, signal: null });
    const afterFirst = await selfAudit(dir);
    expect(afterFirst.map((r) => r.action)).toEqual(['collector.stop', 'collector.start', 'token.create']);
    expect(afterFirst[2]!.target).toMatchObject({ type: 'token', name: 'bootstrap-admin' });
    expect(afterFirst[2]!.details).toEqual({ scope: 'admin' });
    expect(afterFirst[1]!.details).toMatchObject({ verifierKey, configHash: expect.any(String) });
    expect(afterFirst[0]!.details).toMatchObject({ reason: 'SIGTERM', verifierKey });

    // Another configuration: recorded as config.change before the start.
    const second = await startServer(dir, { STELE_LIMITS_EVENTS_PER_REQUEST: '5' });
    expect(second.stderr()).not.toContain('admin token');
    const changes = (await selfAudit(dir)).filter((r) => r.action === 'config.change');
    expect(changes).toHaveLength(1);
    expect(changes[0]!.details).toMatchObject({ from: { limits: { eventsPerRequest: 10_000 } }, to: { limits: { eventsPerRequest: 5 } } });
    const six = Array.from({ length: 6 }, (_, i) => ev(`six-${i}`));
    expect(await errorCode(await postEvents(second.url, admin, six))).toBe('ERR_TOO_MANY_EVENTS');

    // Tokens created and revoked with the CLI while the collector runs take effect and are audited.
    const ci = await createToken(dir, 'ci', 'ingest');
    expect((await postEvents(second.url, ci, [ev('by-ci')])).status).toBe(201);
    const revoked = await stele(['token', 'revoke', '--dir', dir, 'ci']);
    expect(revoked.code).toBe(0);
    const refused = await postEvents(second.url, ci, [ev('after-revoke')]);
    expect(refused.status).toBe(401);
    expect(await errorCode(refused)).toBe('ERR_AUTH_INVALID');
    expect((await postEvents(second.url, admin, [ev('by-admin')])).status).toBe(201);
    await verifies(dir);
    expect(await stop(second)).toEqual({ code: 0, signal: null });

    // The same configuration again: no new config.change.
    const third = await startServer(dir, { STELE_LIMITS_EVENTS_PER_REQUEST: '5' });
    expect(await stop(third)).toEqual({ code: 0, signal: null });
    const audit = await selfAudit(dir);
    expect(audit.map((r) => r.action)).toEqual([
      'collector.stop', 'collector.start', 'collector.stop', 'token.revoke', 'token.create', 'collector.start', 'config.change', 'collector.stop', 'collector.start', 'token.create',
    ]);
    const [revoke, create] = [audit[3]!, audit[4]!];
    expect(create.target).toMatchObject({ type: 'token', name: 'ci' });
    expect(revoke.target).toEqual(create.target);
    expect(create.submitter).toMatchObject({ type: 'local' });
    await verifies(dir);
  });

  test('SIGTERM as soon as the collector says it listens: a graceful stop', async () => {
    const dir = join(tempDir('srv-early'), 'stele-data');
    for (let run = 0; run < 5; run++) {
      const child = spawn(process.execPath, [BIN, 'serve', '--dir', dir, '--port', '0'], { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
      running.add(child);
      let stderr = '';
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (text: string) => {
        stderr += text;
        if (/listening on /.test(stderr) && !child.killed) child.kill('SIGTERM');
      });
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
      running.delete(child);
      expect(exit).toEqual({ code: 0, signal: null });
    }
    expect((await selfAudit(dir))[0]!.action).toBe('collector.stop');
  });

  test('refuses a non-loopback address with authentication off (exit 2, before creating anything)', async () => {
    const dir = join(tempDir('srv-refuse'), 'stele-data');
    // The refusal comes before listening; the watchdog only guards against a regression.
    const child = spawn(process.execPath, [BIN, 'serve', '--dir', dir, '--host', '0.0.0.0', '--port', '0'], { cwd: ROOT, env: childEnv({ STELE_AUTH: 'false' }), stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(watchdog);
    running.delete(child);
    expect(code).toBe(2);
    expect(hasStore(dir)).toBe(false);
  });

  test('a TLS certificate or key that is missing or not PEM: exit 2 with one line, before creating anything', async () => {
    const base = tempDir('srv-badtls');
    const junk = join(base, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    for (const [cert, key, says] of [[join(base, 'missing.pem'), junk, 'cannot read'], [junk, junk, 'not a PEM certificate']] as const) {
      const dir = join(base, 'stele-data');
      const result = await stele(['serve', '--dir', dir, '--port', '0', '--tls-cert', cert, '--tls-key', key]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(says);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(hasStore(dir)).toBe(false);
    }
  });

  test('a port already taken: exit 2 naming it, before creating anything', async () => {
    const dir = join(tempDir('srv-busy'), 'stele-data');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const result = await stele(['serve', '--dir', dir, '--port', String(port)]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).toBe(`stele serve: 127.0.0.1:${port} is already in use`);
      expect(hasStore(dir)).toBe(false);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  test('a bad setting in the environment: exit 2', async () => {
    const dir = join(tempDir('srv-badenv'), 'stele-data');
    const result = await stele(['serve', '--dir', dir, '--port', '0'], { env: { STELE_LIMITS_BODY_BYTES: 'lots' } });
    expect(result.code).toBe(2);
    expect(hasStore(dir)).toBe(false);
  });
});

describe('reading', () => {
  test('the static tile API verifies with an independent tlog-tiles client and a pinned key', async () => {
    const dir = join(tempDir('srv-tiles'), 'stele-data');
    const server = await startServer(dir);
    const reader = await createToken(dir, 'witness', 'read');
    const admin = adminToken(dir);
    for (let b = 0; b < 6; b++) {
      const res = await postEvents(server.url, admin, Array.from({ length: 100 }, (_, i) => ev(`tile-${b * 100 + i}`)));
      expect(res.status).toBe(201);
    }
    // The key is pinned from the data directory, and must agree with what the server says.
    const pinned = readFileSync(join(dir, 'verifier.key'), 'utf8').trim();
    const served = (await (await fetch(`${server.url}/v1/log`, { headers: { authorization: `Bearer ${reader}` } })).json()) as { verifierKey: string; size: number };
    expect(served.verifierKey).toBe(pinned);

    const fetched: string[] = [];
    const fetcher = async (path: string): Promise<Uint8Array | undefined> => {
      fetched.push(path);
      const res = await fetch(`${server.url}/log/${path}`, { headers: { authorization: `Bearer ${reader}` } });
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw new Error(`GET /log/${path}: ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    };
    const ids = new Set<string>();
    const result = await verifyTiledLog({
      fetch: fetcher,
      verifier: await createVerifier(pinned),
      hasher,
      onEntry: (_index, entry) => ids.add((JSON.parse(fromUtf8(entry)) as EventRecord).id),
    });
    expect(result.size).toBe(served.size);
    expect(result.size).toBeGreaterThanOrEqual(602); // collector.start, token.create, 600 events
    for (let i = 0; i < 600; i++) expect(ids.has(`tile-${i}`)).toBe(true);
    expect(fetched).toContain('tile/1/000.p/2');
    expect(fetched.every((p) => p === 'checkpoint' || p.startsWith('tile/'))).toBe(true);
  });

  test('GET /v1/events/stream: server-sent entries appended after connecting, filtered, ended on SIGTERM', async () => {
    const dir = join(tempDir('srv-sse'), 'stele-data');
    const server = await startServer(dir);
    const reader = await createToken(dir, 'watcher', 'read');
    const admin = adminToken(dir);
    expect((await postEvents(server.url, admin, [ev('before-connect')])).status).toBe(201);

    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpGet(`${server.url}/v1/events/stream?source=emacs`, { headers: { authorization: `Bearer ${reader}` } }, resolve);
      req.on('error', reject);
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    res.setEncoding('utf8');
    let text = '';
    const waitFor = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(text)) {
            res.off('data', onData);
            res.off('end', onEnd);
            resolve();
          }
        };
        const onData = (chunk: string) => {
          text += chunk;
          check();
        };
        const onEnd = () => (pattern.test(text) ? resolve() : reject(new Error(`the stream ended without ${pattern}:\n${text}`)));
        res.on('data', onData);
        res.on('end', onEnd);
        check();
      });
    await waitFor(/^: stele /m);

    const posted = await postEvents(server.url, admin, [ev('live-1'), ev('live-git', { source: 'git' }), ev('live-2')]);
    expect(posted.status).toBe(201);
    await waitFor(/^event: checkpoint$/m);
    const records = [...text.matchAll(/^event: entry\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as EventRecord);
    expect(records.map((r) => r.id)).toEqual(['live-1', 'live-2']);
    expect(text).toMatch(/^id: \d+$/m);
    expect(text).not.toContain('before-connect');

    const ended = new Promise<void>((resolve) => res.once('end', resolve));
    res.resume();
    expect(await stop(server)).toEqual({ code: 0, signal: null });
    await ended;
  });
});

/** Client loops POSTing batches of 1 to 50 events with fresh ids; records every id acknowledged with 201. */
function ingest(url: string, token: string, prefix: string, loops: number) {
  const acked: string[] = [];
  const other: number[] = [];
  let done = false;
  let n = 0;
  const loop = async (l: number) => {
    while (!done) {
      const size = 1 + Math.floor(Math.random() * 50);
      const batch = Array.from({ length: size }, (_, i) => ev(`${prefix}-${l}-${n}-${i}`, { details: { n, i } }));
      n++;
      try {
        const res = await postEvents(url, token, batch);
        if (res.status === 201) {
          const body = (await res.json()) as { entries: { id: string }[] };
          acked.push(...body.entries.map((e) => e.id));
        } else {
          other.push(res.status);
          await res.arrayBuffer();
        }
      } catch {
        // The server went away mid-request: the batch is not acknowledged.
        if (done) return;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  const all = Promise.all(Array.from({ length: loops }, (_, l) => loop(l)));
  return {
    acked,
    other,
    stop: async () => {
      done = true;
      await all;
    },
  };
}

/** Checks that every id is in the log of `dir`, by reading the store (read-only) directly. */
async function allPresent(dir: string, ids: string[]): Promise<void> {
  const store = await openStore(dir, { mode: 'read' });
  try {
    const found = await store.log.driver.findIds(ids);
    const missing = ids.filter((id) => !found.has(id));
    expect(missing).toEqual([]);
  } finally {
    await store.log.close();
  }
}

describe('crashes and shutdown', () => {
  test('SIGKILL during sustained ingest loses no acknowledged event (5 runs on one log)', async () => {
    const dir = join(tempDir('srv-kill'), 'stele-data');
    const everAcked: string[] = [];
    for (let run = 0; run < 5; run++) {
      const server = await startServer(dir);
      const admin = adminToken(dir);
      const load = ingest(server.url, admin, `k${run}`, 4);
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 700));
      server.child.kill('SIGKILL');
      const exit = await server.exited;
      await load.stop();
      expect(exit.signal).toBe('SIGKILL');
      expect(load.acked.length).toBeGreaterThan(0);
      everAcked.push(...load.acked);

      // Restart on the same directory: it opens (its checkpoint matches the entries) and serves every acknowledged event.
      const again = await startServer(dir);
      await allPresent(dir, everAcked);
      // It says first that the killed run never recorded its stop.
      const [start, lost] = await selfAudit(dir);
      expect(start!.action).toBe('collector.start');
      expect(lost).toMatchObject({ action: 'collector.lost', details: { pid: server.child.pid } });
      expect(lost!.reason).toMatch(/stopped without recording collector.stop/);
      for (const id of load.acked.filter((_, i) => i % 97 === 0)) {
        const res = await fetch(`${again.url}/v1/events/${id}`, { headers: { authorization: `Bearer ${admin}` } });
        expect(res.status, id).toBe(200);
      }
      const verified = await steleJson<{ ok: boolean; size: number }>(['verify', '--dir', dir, '--json']);
      expect(verified.json.ok).toBe(true);
      expect(await stop(again)).toEqual({ code: 0, signal: null });
    }
    await verifies(dir);
  });

  test('an entry another writer left without a checkpoint is logged once, not taken in', async () => {
    const dir = join(tempDir('srv-stray'), 'stele-data');
    const server = await startServer(dir);
    const admin = adminToken(dir);
    const sizeOf = async () => ((await (await fetch(`${server.url}/v1/log`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { size: number }).size;
    const before = await sizeOf();
    const raw = new Database(join(dir, 'stele.db'));
    try {
      raw.prepare('INSERT INTO entries (idx, id, leaf_hash, data) VALUES (?, ?, ?, ?)').run(before, 'stray', Buffer.alloc(32), Buffer.from('{}'));
    } finally {
      raw.close();
    }
    const failure = /catching up with other writers failed: [^"]*run stele verify/g;
    for (let waited = 0; !failure.test(server.stdout()) && waited < 10_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    // Three more rounds of catching up (one a second) fail the same way and say nothing new.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(server.stdout().match(failure)).toHaveLength(1);
    expect(await sizeOf()).toBe(before);
    server.child.kill('SIGKILL');
    await server.exited;
  });

  test('SIGTERM during ingest: in-flight requests finish, nothing acknowledged is lost, exit 0', async () => {
    const dir = join(tempDir('srv-term'), 'stele-data');
    const server = await startServer(dir);
    const admin = adminToken(dir);
    const load = ingest(server.url, admin, 'term', 4);
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 300));
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    await load.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(load.acked.length).toBeGreaterThan(0);
    // It says when it is done, and how large the log it leaves is.
    const stopped = /stopped; every acknowledged event is in the log \(size (\d+)\)/.exec(server.stderr());
    expect(Number(stopped?.[1])).toBeGreaterThanOrEqual(load.acked.length);
    // Refusals while closing are 503s (never a 5xx other than that, never a 4xx).
    for (const status of load.other) expect(status).toBe(503);
    await allPresent(dir, load.acked);
    const audit = await selfAudit(dir);
    expect(audit[0]!.action).toBe('collector.stop');
    await verifies(dir);
  });
});

describe('hostile clients', () => {
  test('a stalled body does not block others and is cut off after the request timeout; an oversized body is 413', async () => {
    const dir = join(tempDir('srv-slow'), 'stele-data');
    const server = await startServer(dir, { STELE_LIMITS_REQUEST_TIMEOUT_MS: '1000', STELE_LIMITS_BODY_BYTES: '65536' });
    const admin = adminToken(dir);
    const { hostname, port } = new URL(server.url);

    const socket = connect(Number(port), hostname);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    const partial = JSON.stringify([ev('slow')]);
    socket.write(
      `POST /v1/events HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/json\r\nContent-Length: ${partial.length + 500}\r\n\r\n${partial}`,
    );

    // Meanwhile everyone else is served.
    for (let i = 0; i < 5; i++) {
      expect((await postEvents(server.url, admin, [ev(`meanwhile-${i}`)])).status).toBe(201);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    }
    // The stalled request is cut off (a generous deadline guards the test, not the speed).
    const deadline = new Promise<'deadline'>((resolve) => setTimeout(() => resolve('deadline'), 20_000).unref());
    expect(await Promise.race([closed.then(() => 'closed' as const), deadline])).toBe('closed');
    // If anything was answered, it is 408, never a 201.
    if (received !== '') expect(received).toMatch(/^HTTP\/1\.1 408 /);
    const store = await openStore(dir, { mode: 'read' });
    try {
      expect(await store.log.entryById('slow')).toBeUndefined();
    } finally {
      await store.log.close();
    }

    // Over limits.bodyBytes, with a Content-Length and chunked.
    const huge = JSON.stringify(Array.from({ length: 1000 }, (_, i) => ev(`huge-${i}`)));
    expect(huge.length).toBeGreaterThan(65536);
    const sized = await fetch(`${server.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: huge });
    expect(sized.status).toBe(413);
    expect(await errorCode(sized)).toBe('ERR_BODY_TOO_LARGE');
    const chunked = await new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
      const req = httpRequest(`${server.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < huge.length; i += 8192) req.write(huge.slice(i, i + 8192));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect((JSON.parse(chunked.body) as { error: { code: string } }).error.code).toBe('ERR_BODY_TOO_LARGE');
    expect((await postEvents(server.url, admin, [ev('still-fine')])).status).toBe(201);
    expect(await stop(server)).toEqual({ code: 0, signal: null });
  });

  test('a body trickled byte by byte is cut off after the request timeout', async () => {
    const dir = join(tempDir('srv-trickle'), 'stele-data');
    const server = await startServer(dir, { STELE_LIMITS_REQUEST_TIMEOUT_MS: '1000' });
    const admin = adminToken(dir);
    const { hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    socket.on('error', () => undefined);
    const closed = new Promise<'closed'>((resolve) => socket.on('close', () => resolve('closed')));
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    socket.write(`POST /v1/events HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[`);
    const drip = setInterval(() => socket.write(' '), 300);
    try {
      // Eight times the configured timeout: a deadline for the test, not a speed requirement.
      const deadline = new Promise<'deadline'>((resolve) => setTimeout(() => resolve('deadline'), 8_000).unref());
      expect(await Promise.race([closed, deadline])).toBe('closed');
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
  });
});
