/**
 * The `stele` command's messages, through the real built binary: each bad
 * usage is refused with exit 2 and one line naming what the user gave, and
 * each report says what is true (counts in the right number, sizes, locks).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT, removeTempDirs, requireBuild, seedLog, stele, steleJson, tempDir } from './helpers.js';

beforeAll(requireBuild);
afterAll(removeTempDirs);

/** A new empty log (through the CLI) in a fresh directory. */
async function newLog(): Promise<string> {
  const dir = join(tempDir('msg'), 'log');
  expect((await stele(['init', '--dir', dir, '--origin', 'example.com/messages'])).code).toBe(0);
  return dir;
}

/** The one line a refused command printed: exit 2, nothing on stdout. */
async function refusal(args: string[], options: Parameters<typeof stele>[1] = {}): Promise<string> {
  const { code, stdout, stderr } = await stele(args, options);
  expect({ args, code, stdout, lines: stderr.split('\n').length }).toEqual({ args, code: 2, stdout: '', lines: 2 });
  return stderr.trimEnd();
}

describe('flags and subcommands', () => {
  test('install-hook names --collector, the flag that holds the URL (its --server is the server-side hook)', async () => {
    const repo = tempDir('msg-git');
    execFileSync('git', ['init', '-q', repo]);
    writeFileSync(join(repo, 'git.token'), 'stele_x\n');
    expect(await refusal(['git', 'install-hook', '--collector', 'notaurl', '--token-file', 'git.token'], { cwd: repo }))
      .toBe('stele git: --collector must be a URL such as https://stele.example.com, not "notaurl"');
    expect(await refusal(['git', 'install-hook', '--token-file', 'git.token'], { cwd: repo, env: { STELE_SERVER: 'ftp://x' } }))
      .toBe('stele git: $STELE_SERVER must be an http(s) URL, not "ftp://x"');
  });

  test('options before the command: the line to type instead', async () => {
    expect(await refusal(['--dir', '/x', 'verify'])).toBe('stele: options go after the command: stele verify --dir /x');
    expect(await refusal(['--dir', 'my log'])).toBe("stele: options go after the command: stele <command> --dir 'my log' (see stele --help)");
    expect(await refusal(['frobnicate'])).toBe('stele: unknown command "frobnicate" (see stele --help)');
  });

  test('a missing or unknown subcommand is said before anything else; the subcommand may stand after the options', async () => {
    const cwd = tempDir('msg-nolog');
    expect(await refusal(['token'], { cwd })).toBe('stele token: usage: stele token create|list|revoke [--dir D] (see stele token --help)');
    expect(await refusal(['token', 'frob'], { cwd })).toBe('stele token: unknown subcommand "frob"; usage: stele token create|list|revoke [--dir D] (see stele token --help)');
    expect(await refusal(['git'], { cwd })).toBe('stele git: usage: stele git install-hook --collector URL [--server] [--repo PATH] | flush [--repo PATH] (see stele git --help)');
    expect(await refusal(['ingest', '--dir', 'd', 'aws'], { cwd })).toBe('stele ingest: unknown subcommand "aws"; usage: stele ingest cloudtrail PATH|s3://BUCKET/PREFIX [--server URL] (see stele ingest --help)');
    // The subcommand's own flags are still checked, and only revoke takes an argument.
    expect(await refusal(['token', '--frob', 'list'], { cwd })).toBe('stele token: unknown option --frob');
    expect(await refusal(['token', 'list', 'extra'], { cwd })).toBe('stele token: unexpected argument: extra');

    const dir = await newLog();
    const created = await steleJson<{ name: string }>(['token', '--dir', dir, '--name', 'ci', 'create', '--scope', 'read', '--json']);
    expect({ code: created.code, name: created.json.name }).toEqual({ code: 0, name: 'ci' });
    const listed = await stele(['token', '--dir', dir, 'list']);
    expect({ code: listed.code, names: listed.stdout.trim().split('\n').map((l) => l.split(/\s+/)[2]) }).toEqual({ code: 0, names: ['ci'] });
    // A flag's value is not the subcommand: --repo flush is the repository.
    expect(await refusal(['git', '--repo', cwd, 'flush'], { cwd })).toBe(`stele git: ${cwd} is not a git repository`);
  });
});

describe('data on stdout, messages on stderr', () => {
  test('a query that matches nothing prints nothing on stdout and says so on stderr, exit 0; --json prints nothing at all', async () => {
    const dir = await newLog();
    expect(await stele(['query', '--dir', dir])).toMatchObject({ code: 0, stdout: '', stderr: 'no matching events\n' });
    expect(await stele(['query', '--dir', dir, '--json'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });
});

describe('tokens: one live token per name', () => {
  test('token create refuses a live name and says how to go on; a revoked name is free again', async () => {
    const dir = await newLog();
    const first = await steleJson<{ id: string }>(['token', 'create', '--dir', dir, '--name', 'ci', '--scope', 'ingest', '--json']);
    expect(first.code).toBe(0);
    expect(await refusal(['token', 'create', '--dir', dir, '--name', 'ci', '--scope', 'read']))
      .toBe(`stele token: a live token is already named ci (id ${first.json.id}): revoke it first (stele token revoke ${first.json.id}), or choose another --name`);
    expect((await stele(['token', 'revoke', 'ci', '--dir', dir])).code).toBe(0);
    expect((await stele(['token', 'create', '--dir', dir, '--name', 'ci', '--scope', 'read'])).code).toBe(0);
  });

  test('live namesakes from before the rule: revoke by name is refused naming their ids, by id works', async () => {
    const dir = await newLog();
    const made = await steleJson<{ id: string }>(['token', 'create', '--dir', dir, '--name', 'ci', '--scope', 'ingest', '--json']);
    const db = new Database(join(dir, 'auth.db'));
    db.prepare('INSERT INTO tokens (id, name, scope, hash, created) VALUES (?, ?, ?, ?, ?)').run('0123456789ab', 'ci', 'ingest', Buffer.alloc(32, 7), new Date().toISOString());
    db.close();
    expect(await refusal(['token', 'revoke', 'ci', '--dir', dir])).toBe(`stele token: 2 live tokens are named ci; revoke one by its id (${made.json.id}, 0123456789ab)`);
    const byId = await stele(['token', 'revoke', '0123456789ab', '--dir', dir]);
    expect({ code: byId.code, stdout: byId.stdout }).toEqual({ code: 0, stdout: 'revoked ci (id 0123456789ab)\n' });
  });

  test('kube-webhook-config checks the URL before the token, and creates its token once', async () => {
    const cwd = tempDir('msg-kube');
    expect(await refusal(['kube-webhook-config', '--server', 'x'], { cwd })).toBe('stele kube-webhook-config: --server must be a URL such as https://stele.example.com, not "x"');
    const dir = await newLog();
    const first = await stele(['kube-webhook-config', '--server', 'https://stele.example.com', '--cluster', 'prod', '--dir', dir]);
    expect(first.code).toBe(0);
    const id = /\(id ([0-9a-f]{12})\)/.exec(first.stderr)![1]!;
    expect(await refusal(['kube-webhook-config', '--server', 'https://stele.example.com', '--cluster', 'prod', '--dir', dir])).toBe(
      `stele kube-webhook-config: a live token is already named kube-audit-prod (id ${id}): revoke it first (stele token revoke ${id}), or pass its secret with --token-file F, or choose another --cluster`,
    );
    const revoked = await stele(['token', 'revoke', 'kube-audit-prod', '--dir', dir]);
    expect({ code: revoked.code, stdout: revoked.stdout }).toEqual({ code: 0, stdout: `revoked kube-audit-prod (id ${id})\n` });
  });
});

describe('ingest cloudtrail', () => {
  test('--json reports the log\'s real size when no file is new; a bad file is refused in one line', async () => {
    const dir = await newLog();
    const trail = tempDir('msg-trail');
    copyFileSync(join(ROOT, 'test/fixtures/sources/cloudtrail-iam.json'), join(trail, 'a.json'));
    const first = await steleJson<{ size: number }>(['ingest', '--dir', dir, 'cloudtrail', trail, '--json']);
    expect(first.code).toBe(0);
    expect(first.json.size).toBe(5);
    const again = await steleJson(['ingest', 'cloudtrail', trail, '--dir', dir, '--json']);
    expect({ code: again.code, json: again.json }).toEqual({ code: 0, json: { files: 0, skipped: 1, records: 0, appended: 0, duplicates: 0, size: 5 } });

    writeFileSync(join(trail, 'b.json'), 'garbage\n');
    expect(await refusal(['ingest', 'cloudtrail', trail, '--dir', dir])).toBe(`stele ingest: b.json: not JSON: Unexpected token 'g', "garbage\\n" is not valid JSON`);
  });
});

describe('archive', () => {
  test('tells of a lock only for objects written now, on a store that holds it; object URLs have their slash', async () => {
    const dir = await newLog();
    expect((await stele(['append', '--dir', dir], { input: '{"source":"x","action":"a","actor":{"email":"a@example.com"}}\n' })).code).toBe(0);
    const run = async (to: string, ...flags: string[]) => {
      const { code, stdout } = await stele(['archive', '--dir', dir, '--to', pathToFileURL(to).href, '--retention-days', '1', ...flags]);
      expect(code).toBe(0);
      return stdout.trimEnd();
    };
    const dev = join(tempDir('msg-arch'), 'dev');
    mkdirSync(dev);
    expect(await run(dev, '--allow-unlocked')).toBe(`archived 1 entry to file://${dev}: 3 objects written, 0 already there; checkpoints/1`);
    const worm = join(tempDir('msg-arch'), 'worm');
    mkdirSync(worm);
    expect(await run(worm)).toMatch(new RegExp(`^archived 1 entry to file://${worm}: 3 objects written, 0 already there; checkpoints/1, committed read-only with retention until \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`));
    expect(await run(worm)).toBe(`archived 1 entry to file://${worm}: 0 objects written, 0 already there; checkpoints/1`);

    const key = (await stele(['key', '--dir', dir])).stdout.trim();
    const ok = await stele(['verify', '--archive', pathToFileURL(dev).href, '--key', key]);
    expect({ code: ok.code, line: ok.stdout.replace(/root \S+/, 'root R') }).toEqual({ code: 0, line: `ok: file://${dev}: 1 entry, 1 checkpoint, 3 objects verified; root R\n` });
    // A checkpoint of size 1 filed as size 2: the failure names the object, with a slash after the directory.
    writeFileSync(join(dev, 'checkpoints', '2'), readFileSync(join(dev, 'checkpoints', '1')));
    const failed = await stele(['verify', '--archive', pathToFileURL(dev).href, '--key', key]);
    expect({ code: failed.code, stdout: failed.stdout }).toEqual({
      code: 1, stdout: `FAILED: file://${dev}/checkpoints/2: ERR_ARCHIVE_CORRUPT: checkpoints/2 holds a checkpoint of size 1\n`,
    });
  });
});

describe('query, help and small messages', () => {
  test('query --outcome filters by outcome; a bad outcome or an inverted range is refused', async () => {
    const dir = join(tempDir('msg-query'), 'log');
    await seedLog(dir, 14);
    const { code, stdout } = await stele(['query', '--dir', dir, '--outcome', 'failure', '--json']);
    expect({ code, outcomes: stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string; outcome: string }).id) }).toEqual({ code: 0, outcomes: ['seed-13', 'seed-6'] });
    expect(await refusal(['query', '--dir', dir, '--outcome', 'failed'])).toBe('stele query: --outcome is success, failure or unknown, not "failed"');
    expect(await refusal(['query', '--dir', dir, '--since', '2h', '--until', '3h'])).toBe('stele query: --since 2h is after --until 3h: no event can match (a duration counts back from now)');
  });

  test('each command\'s help lists the flags the full help and the docs use', async () => {
    const full = (await stele(['--help'])).stdout;
    for (const [command, flag] of [['query', '--outcome success|failure|unknown'], ['git', '--repository-url URL'], ['verify', '--archive URL --key VKEY']]) {
      const part = await stele([command!, '--help']);
      expect({ command, code: part.code, own: part.stdout.includes(flag!), full: full.includes(flag!) }).toEqual({ command, code: 0, own: true, full: true });
    }
  });

  test('append names no empty field; verify --key says what it could not take; counts of one are singular', async () => {
    const dir = await newLog();
    expect(await refusal(['append', '--dir', dir], { input: '[1]\n' })).toBe('stele append: line 1: an event must be a JSON object [type]');
    expect(await refusal(['verify', '--dir', dir, '--key', 'garbage'])).toBe('stele verify: --key "garbage" is neither a verifier key (name+hash+key) nor a readable file (ENOENT)');
    const appended = await stele(['append', '--dir', dir], { input: '{"source":"x","action":"a","actor":{"email":"a@example.com"}}\n' });
    expect({ code: appended.code, stdout: appended.stdout }).toEqual({ code: 0, stdout: 'appended 1 event (0 duplicates); log size 1\n' });
    const verified = await stele(['verify', '--dir', dir]);
    expect({ code: verified.code, line: verified.stdout.replace(/root \S+/, 'root R') }).toEqual({ code: 0, line: 'ok: 1 entry verified; root R\n' });
  });
});
