/**
 * Logging in as a new user would, through the real built binary: `stele
 * serve` configured with a real OpenID provider on loopback, `stele login
 * --server URL` through the device flow (the test plays the user in the
 * provider's pages), then `whoami`, `append --server`, a silent refresh,
 * `logout`; and `login --browser` through the code flow with PKCE.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLI_CLIENT, approveAuthorization, approveDevice, startProvider, writeCollectorConfig, type TestProvider } from './oidcProvider.js';
import { BIN, ROOT, removeTempDirs, requireBuild, stele, steleJson, tempDir } from './helpers.js';

let provider: TestProvider;
let server: ChildProcess;
let url: string;
let dir: string;

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STELE_') && k !== 'XDG_CONFIG_HOME') env[k] = v;
  return { ...env, STELE_LOG_LEVEL: 'warn', ...extra };
}

beforeAll(async () => {
  requireBuild();
  provider = await startProvider();
  dir = join(tempDir('login'), 'data');
  const config = join(tempDir('login-config'), 'stele.json');
  writeCollectorConfig(config, provider);
  server = spawn(process.execPath, [BIN, 'serve', '--dir', dir, '--port', '0', '--config', config], { cwd: ROOT, env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.resume();
  url = await new Promise<string>((resolve, reject) => {
    let stderr = '';
    server.stderr!.setEncoding('utf8');
    server.stderr!.on('data', (text: string) => {
      stderr += text;
      const match = /listening on (http:\/\/[^\s]+) /.exec(stderr);
      if (match) resolve(match[1]!);
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

/**
 * Runs `stele login ...` and plays the user: waits for the `open: URL` line
 * on stderr, then approves in the provider's pages as `user`.
 */
function login(args: string[], env: Record<string, string>, approve: (url: string) => Promise<unknown>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'login', ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let approving: Promise<unknown> | undefined;
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => {
    stderr += t;
    const match = /^open: (\S+)$/m.exec(stderr);
    if (match && !approving) approving = approve(match[1]!);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', async (code) => {
      try {
        await approving;
      } catch (err) {
        reject(err);
        return;
      }
      resolve({ code, stdout, stderr });
    });
  });
}

describe('stele login, whoami, append --server, logout', () => {
  let home: string;
  let env: Record<string, string>;
  beforeAll(() => {
    home = tempDir('login-home');
    env = { XDG_CONFIG_HOME: home };
  });
  const credentialsFile = () => join(home, 'stele', 'credentials.json');

  test('the device flow: prints the code, polls, stores the tokens 0600, and the collector knows who it is', async () => {
    const result = await login(['--server', url, '--json'], env, (u) => approveDevice(u, 'alice'));
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/enter the code/);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({ server: url.replace(/\/$/, ''), issuer: provider.issuer, whoami: { type: 'oidc', kind: 'person', subject: 'alice', roles: ['ingest', 'admin'] } });
    expect(statSync(credentialsFile()).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(credentialsFile(), 'utf8'));
    expect(Object.values(stored.servers)).toEqual([expect.objectContaining({ issuer: provider.issuer, clientId: CLI_CLIENT, refreshToken: expect.any(String), accessToken: expect.any(String) })]);
  });

  test('whoami asks the collector', async () => {
    const who = await steleJson(['whoami', '--json'], { env });
    expect(who.code).toBe(0);
    expect(who.json).toMatchObject({ type: 'oidc', subject: 'alice', actor: { email: 'alice@example.com', verified: true } });
  });

  test('append --server: the events are stored with the token\'s person as the actor', async () => {
    const line = JSON.stringify({ id: 'login-e2e-1', source: 'cli', action: 'config.change', actor: { id: 'root' }, target: { type: 'file', id: '/etc/sudoers' } });
    const sent = await steleJson<{ appended: number }>(['append', '--server', url, '--json'], { env, input: line + '\n' });
    expect(sent.code).toBe(0);
    expect(sent.json.appended).toBe(1);
    // Read the record back over the API with the same login (alice is admin).
    const response = await fetch(`${url}/v1/events/login-e2e-1`, { headers: { authorization: `Bearer ${JSON.parse(readFileSync(credentialsFile(), 'utf8')).servers[url.replace(/\/$/, '')].accessToken}` } });
    const { event } = (await response.json()) as { event: { actor: Record<string, unknown>; details?: unknown; submitter?: unknown } };
    expect(event.actor).toMatchObject({ id: 'alice', email: 'alice@example.com', verified: true, idp: provider.issuer });
    expect(event.details).toEqual({ claimedActor: { id: 'root', verified: false } });
    expect(event.submitter).toEqual({ type: 'oidc', id: 'testidp:alice', name: 'alice@example.com' });
  });

  test('an expired login is refreshed silently', async () => {
    const file = JSON.parse(readFileSync(credentialsFile(), 'utf8'));
    const key = Object.keys(file.servers)[0]!;
    const before = file.servers[key].accessToken;
    file.servers[key].expiresAt = Date.now() - 1000;
    writeFileSync(credentialsFile(), JSON.stringify(file), { mode: 0o600 });
    const who = await steleJson(['whoami', '--json'], { env });
    expect(who.code).toBe(0);
    expect(who.json).toMatchObject({ subject: 'alice' });
    const after = JSON.parse(readFileSync(credentialsFile(), 'utf8')).servers[key];
    expect(after.accessToken).not.toBe(before);
    expect(after.expiresAt).toBeGreaterThan(Date.now());
  });

  test('logout forgets the login; whoami then exits 1', async () => {
    const out = await steleJson(['logout', '--json'], { env });
    expect(out.code).toBe(0);
    expect(out.json).toMatchObject({ loggedOut: true, revoked: true });
    expect(JSON.parse(readFileSync(credentialsFile(), 'utf8')).servers).toEqual({});
    const who = await stele(['whoami', '--server', url], { env });
    expect(who.code).toBe(1);
  });
});

describe('stele login --browser', () => {
  test('the code flow with PKCE and a loopback redirect', async () => {
    const env = { XDG_CONFIG_HOME: tempDir('login-browser') };
    let redirected = 0;
    const result = await login(['--server', url, '--browser'], env, async (u) => (redirected = await approveAuthorization(u, 'bob')));
    expect(result.code).toBe(0);
    expect(redirected).toBe(200);
    const who = await steleJson(['whoami', '--json'], { env });
    expect(who.json).toMatchObject({ type: 'oidc', subject: 'bob', roles: ['ingest', 'read'] });
  });

  test('a --server that is not a URL exits 2', async () => {
    const bad = await stele(['login', '--server', 'not a url'], { env: { XDG_CONFIG_HOME: tempDir('login-bad') } });
    expect(bad.code).toBe(2);
  });
});

describe('the running collector', () => {
  test('GET /v1/devices needs a credential; with the admin token it lists devices; the log verifies', async () => {
    expect((await fetch(`${url}/v1/devices`)).status).toBe(401);
    const admin = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    const response = await fetch(`${url}/v1/devices`, { headers: { authorization: `Bearer ${admin}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ devices: [] });
    const verified = await steleJson<{ ok: boolean }>(['verify', '--dir', dir, '--json']);
    expect(verified.json.ok).toBe(true);
  });
});
