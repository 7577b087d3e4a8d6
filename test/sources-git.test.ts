/**
 * Git hooks in real repositories, against a real collector over a socket:
 * `stele git install-hook` in a clone (post-commit) and in a bare repository
 * (post-receive, `--server`); a commit, a push, a fast-forward, a force-push
 * and a branch deletion each become the right event; with the collector down
 * the commit still succeeds and its event waits in the spool until
 * `stele git flush`; a hook that was there before keeps running.
 *
 * Deliveries happen in the background after each hook; the test then runs
 * `stele git flush`, which waits for a running delivery's lock, so by the time
 * it returns every spooled event was delivered (events carry deterministic
 * ids: a file sent by both is one event).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EventRecord } from '@stele/log';
import { freePort, removeTempDirs, requireBuild, stele, steleJson, tempDir } from './helpers.js';
import { childEnv, startCollector, type Collector } from './sourcesProcess.js';

let root: string;
let dataDir: string;
let port: number;
let collector: Collector | undefined;
let tokenFile: string;
let bare: string;
let work: string;

/** git without the caller's configuration, as alice. */
function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return childEnv({
    HOME: root,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Alice Example',
    GIT_AUTHOR_EMAIL: 'alice@example.com',
    GIT_COMMITTER_NAME: 'Alice Example',
    GIT_COMMITTER_EMAIL: 'alice@example.com',
    USER: 'alice',
    // Report before git returns, so the spool is known to hold the event when the test looks.
    STELE_GIT_HOOK_FOREGROUND: '1',
    ...extra,
  });
}
const git = (cwd: string, args: string[], extra: Record<string, string> = {}) =>
  execFileSync('git', args, { cwd, env: gitEnv(extra), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

async function events(query: Record<string, string>): Promise<EventRecord[]> {
  const url = new URL('/v1/events', collector!.url);
  for (const [k, v] of Object.entries({ limit: '1000', ...query })) url.searchParams.set(k, v);
  const res = await fetch(url, { headers: { authorization: `Bearer ${collector!.adminToken}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { events: EventRecord[] }).events;
}

const flush = (repo: string) => steleJson<{ sent: number; rejected: number; remaining: number }>(['git', 'flush', '--repo', repo, '--json'], { env: { HOME: root } });
const spooledIn = (gitDir: string) => (existsSync(join(gitDir, 'stele/spool')) ? readdirSync(join(gitDir, 'stele/spool')).filter((n) => n.endsWith('.json')) : []);

beforeAll(async () => {
  requireBuild();
  root = tempDir('git');
  dataDir = join(root, 'data');
  port = await freePort();
  collector = await startCollector(dataDir, { port });
  const created = await steleJson<{ token: string }>(['token', 'create', '--dir', dataDir, '--name', 'git-hooks', '--scope', 'ingest', '--json']);
  expect(created.code).toBe(0);
  tokenFile = join(root, 'hook.token');
  writeFileSync(tokenFile, created.json.token + '\n', { mode: 0o600 });

  bare = join(root, 'remote.git');
  git(root, ['init', '--bare', '--initial-branch=main', bare]);
  git(root, ['clone', bare, 'work']);
  work = join(root, 'work');
  const server = await stele(['git', 'install-hook', '--server', '--repo', bare, '--collector', collector.url, '--token-file', tokenFile]);
  expect(server.code).toBe(0);
  const client = await stele(['git', 'install-hook', '--repo', work, '--collector', collector.url, '--token-file', tokenFile]);
  expect(client.code).toBe(0);
});

afterAll(async () => {
  await collector?.stop();
  removeTempDirs();
});

describe('a clone with the post-commit hook', () => {
  test('a commit is a vc.commit by its committer, with the ticket of its message', async () => {
    git(work, ['commit', '--allow-empty', '-m', 'INC-42: turn the cache off\n\nIt broke checkout.']);
    const sha = git(work, ['rev-parse', 'HEAD']);
    expect((await flush(work)).code).toBe(0);
    const [e] = (await events({ source: 'git', action: 'vc.commit' })).filter((r) => (r.details!.git as { commit: string }).commit === sha);
    expect(e).toBeDefined();
    expect(e!.actor).toMatchObject({ email: 'alice@example.com', name: 'Alice Example' });
    expect(e!.target).toEqual({ type: 'repository', id: bare, name: 'remote' });
    expect(e!.reason).toBe('INC-42: turn the cache off\n\nIt broke checkout.');
    expect(e!.details).toMatchObject({ tickets: ['INC-42'], operation: 'commit', git: { branch: 'main', author: { email: 'alice@example.com' } } });
  });
});

describe('a bare repository with the post-receive hook', () => {
  test('the first push creates the branch: vc.push with its commits, by the pushing account', async () => {
    git(work, ['push', 'origin', 'main'], { USER: 'alice' });
    const head = git(work, ['rev-parse', 'HEAD']);
    expect((await flush(bare)).code).toBe(0);
    const pushes = (await events({ source: 'git', action: 'vc.push' })).filter((r) => (r.details!.git as { after: string }).after === head);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.actor).toEqual({ id: 'alice', verified: false });
    expect(pushes[0]!.details).toMatchObject({ tickets: ['INC-42'], git: { ref: 'refs/heads/main', created: true, deleted: false, forced: false, commitCount: 1, commits: [{ id: head }] } });
  });

  test('a fast-forward push is vc.push, not forced', async () => {
    const before = git(work, ['rev-parse', 'HEAD']);
    git(work, ['commit', '--allow-empty', '-m', 'OPS-7 second']);
    git(work, ['commit', '--allow-empty', '-m', 'third']);
    git(work, ['push', 'origin', 'main']);
    const after = git(work, ['rev-parse', 'HEAD']);
    await flush(bare);
    const [e] = (await events({ source: 'git', action: 'vc.push' })).filter((r) => (r.details!.git as { after: string }).after === after);
    expect(e!.details).toMatchObject({ git: { before, after, forced: false, created: false, commitCount: 2 } });
    expect((e!.details!.git as { commits: Array<{ id: string }> }).commits).toHaveLength(2);
  });

  test('a force-push is vc.push.force, counting the commits it dropped', async () => {
    const before = git(work, ['rev-parse', 'HEAD']);
    git(work, ['commit', '--amend', '--allow-empty', '-m', 'third, rewritten (INC-42)']);
    git(work, ['push', '--force', 'origin', 'main']);
    const after = git(work, ['rev-parse', 'HEAD']);
    await flush(bare);
    const forced = await events({ source: 'git', action: 'vc.push.force' });
    expect(forced).toHaveLength(1);
    expect(forced[0]!.details).toMatchObject({ git: { before, after, forced: true, dropped: 1, commitCount: 1 } });
  });

  test('deleting a branch is vc.ref.delete', async () => {
    git(work, ['push', 'origin', 'HEAD:refs/heads/feature']);
    git(work, ['push', 'origin', ':feature']);
    await flush(bare);
    const deleted = await events({ source: 'git', action: 'vc.ref.delete' });
    expect(deleted).toHaveLength(1);
    expect(deleted[0]!.details).toMatchObject({ git: { ref: 'refs/heads/feature', deleted: true, commitCount: 0 } });
  });

  test('every push and commit is in the log exactly once (background and explicit deliveries overlap)', async () => {
    const all = await events({ source: 'git' });
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(spooledIn(bare)).toEqual([]);
    expect(spooledIn(join(work, '.git'))).toEqual([]);
  });
});

describe('the collector is down', () => {
  test('the commit succeeds, its event is spooled, and flush delivers it once the collector is back', async () => {
    await collector!.stop();
    collector = undefined;
    const result = spawnSync('git', ['commit', '--allow-empty', '-m', 'INC-99 while the collector is down'], { cwd: work, env: gitEnv(), encoding: 'utf8' });
    expect(result.status).toBe(0);
    const sha = git(work, ['rev-parse', 'HEAD']);
    const down = await flush(work);
    expect(down.code).toBe(1);
    expect(down.json.remaining).toBe(1);
    expect(spooledIn(join(work, '.git'))).toHaveLength(1);

    collector = await startCollector(dataDir, { port });
    const up = await flush(work);
    expect(up.code).toBe(0);
    expect(up.json.remaining).toBe(0);
    const found = (await events({ source: 'git', action: 'vc.commit' })).filter((r) => (r.details!.git as { commit: string }).commit === sha);
    expect(found).toHaveLength(1);
    expect(found[0]!.details!.tickets).toEqual(['INC-99']);
  });

  test('a broken hook setup never fails the commit', async () => {
    const config = join(work, '.git/stele/config.json');
    const saved = readFileSync(config, 'utf8');
    writeFileSync(config, '{ not json');
    try {
      for (const foreground of ['1', '0']) {
        const result = spawnSync('git', ['commit', '--allow-empty', '-m', 'still fine'], { cwd: work, env: gitEnv({ STELE_GIT_HOOK_FOREGROUND: foreground }), encoding: 'utf8' });
        expect(result.status).toBe(0);
      }
    } finally {
      writeFileSync(config, saved);
    }
  });
});

describe('install-hook', () => {
  test('keeps a hook that was there and runs it first; installing twice is harmless', async () => {
    const repo = join(root, 'other');
    git(root, ['init', '--initial-branch=main', repo]);
    const mark = join(root, 'previous-hook-ran');
    const previous = join(repo, '.git/hooks/post-commit');
    writeFileSync(previous, `#!/bin/sh\necho ran > '${mark}'\n`);
    chmodSync(previous, 0o755);
    for (let i = 0; i < 2; i++) {
      const installed = await steleJson<{ chained?: string }>(['git', 'install-hook', '--repo', repo, '--collector', collector!.url, '--token-file', tokenFile, '--json']);
      expect(installed.code).toBe(0);
    }
    expect(existsSync(`${previous}.pre-stele`)).toBe(true);
    git(repo, ['commit', '--allow-empty', '-m', 'chained']);
    expect(readFileSync(mark, 'utf8').trim()).toBe('ran');
    expect((await flush(repo)).json.remaining).toBe(0);
  });

  test('bad usage exits 2: no collector, no token, not a repository', async () => {
    expect((await stele(['git', 'install-hook', '--repo', work, '--token-file', tokenFile])).code).toBe(2);
    expect((await stele(['git', 'install-hook', '--repo', work, '--collector', collector!.url])).code).toBe(2);
    expect((await stele(['git', 'install-hook', '--repo', root, '--collector', collector!.url, '--token-file', tokenFile], { env: { GIT_CEILING_DIRECTORIES: root } })).code).toBe(2);
  });
});
