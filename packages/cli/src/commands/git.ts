import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverKey } from '../credentials.js';
import { commitEvent, git, pushEvent, repositoryOf } from '../gitReport.js';
import { EXIT, type Io } from '../io.js';
import { lockSpool, readSpooled, reject, spooled, spoolEvent, unspool } from '../spool.js';
import { plural } from '../text.js';
import { UsageError, parse, subcommand, subcommandError } from '../usage.js';

/**
 * `stele git install-hook [--server] [--repo PATH] [--collector URL]
 * [--token-file F] [--repository-url URL] [--json]`: installs a client-side
 * `post-commit` hook, or with `--server` a server-side `post-receive` hook,
 * that reports commits and pushes to the collector. `stele git hook NAME`
 * is what the hook runs: it spools the event under `<git dir>/stele/spool`
 * and starts `stele git flush` in the background, and it never fails or
 * holds up the git operation. `stele git flush [--repo PATH] [--json]`
 * delivers the spool (exit 1 while the collector cannot be reached).
 */
export async function gitCommand(args: string[], io: Io): Promise<number> {
  const { sub, rest } = subcommand(args, { ...INSTALL_OPTIONS, ...HOOK_OPTIONS, ...FLUSH_OPTIONS });
  switch (sub) {
    case 'install-hook':
      return installHook(rest, io);
    case 'hook':
      return runHook(rest, io);
    case 'flush':
      return flush(rest, io);
    default:
      throw subcommandError('git', sub, 'install-hook --collector URL [--server] [--repo PATH] | flush [--repo PATH]');
  }
}

const INSTALL_OPTIONS = {
  server: { type: 'boolean' },
  repo: { type: 'string' },
  collector: { type: 'string' },
  'token-file': { type: 'string' },
  'repository-url': { type: 'string' },
  json: { type: 'boolean' },
} as const;
const HOOK_OPTIONS = { commit: { type: 'string' }, branch: { type: 'string' } } as const;
const FLUSH_OPTIONS = { repo: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' } } as const;

/** What install-hook leaves in `<git dir>/stele/config.json`. */
interface HookConfig {
  server: string;
  repository?: string;
}

/** The bin script of this installation: what the hook runs. */
const BIN = fileURLToPath(new URL('../../bin/stele.js', import.meta.url));
const MARKER = '# stele-hook';

const gitDirOf = (repo: string) => {
  try {
    return git(repo, ['rev-parse', '--absolute-git-dir']);
  } catch {
    throw new UsageError(`${repo} is not a git repository`);
  }
};
const steleDir = (gitDir: string) => join(gitDir, 'stele');
const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The hook script: runs any hook it replaced, then reports in the background
 * (the shell only reads what the report needs now: the commit, or the pushed
 * refs), so git never waits for Node or the network; it exits with the
 * replaced hook's status, never with Stele's. `STELE_GIT_HOOK_FOREGROUND=1`
 * reports before returning (tests, and debugging a hook).
 */
function hookScript(name: 'post-commit' | 'post-receive'): string {
  const run = `${shellQuote(process.execPath)} ${shellQuote(BIN)} git hook ${name}`;
  const lines = [
    '#!/bin/sh',
    `${MARKER}: reports to a Stele collector (installed by stele git install-hook).`,
    '# It never fails or holds up git: the event is spooled under the git directory and sent in the background.',
  ];
  if (name === 'post-receive') {
    lines.push(
      'input=$(cat)',
      'if [ -x "$0.pre-stele" ]; then printf \'%s\\n\' "$input" | "$0.pre-stele" "$@"; status=$?; else status=0; fi',
      `report() { printf '%s\\n' "$input" | ${run} >/dev/null 2>&1; }`,
    );
  } else {
    lines.push(
      'if [ -x "$0.pre-stele" ]; then "$0.pre-stele" "$@"; status=$?; else status=0; fi',
      'commit=$(git rev-parse -q --verify HEAD 2>/dev/null) || exit $status',
      'branch=$(git symbolic-ref -q --short HEAD 2>/dev/null)',
      `report() { ${run} --commit "$commit" --branch "$branch" </dev/null >/dev/null 2>&1; }`,
    );
  }
  lines.push('if [ "$STELE_GIT_HOOK_FOREGROUND" = 1 ]; then report; else report & fi', 'exit $status', '');
  return lines.join('\n');
}

async function installHook(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, INSTALL_OPTIONS);
  const repo = resolve(io.cwd, values.repo ?? '.');
  const gitDir = gitDirOf(repo);
  const collector = values.collector ?? io.env.STELE_SERVER;
  if (!collector) throw new UsageError('name the collector: --collector URL (or $STELE_SERVER)');
  // --server is install-hook's own flag (a server-side hook): the URL comes from --collector.
  const server = serverKey(collector, values.collector !== undefined ? '--collector' : '$STELE_SERVER');
  let token = io.env.STELE_TOKEN;
  if (values['token-file'] !== undefined) {
    try {
      token = readFileSync(resolve(io.cwd, values['token-file']), 'utf8').trim();
    } catch (err) {
      throw new UsageError(`cannot read ${values['token-file']}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (!token) throw new UsageError('the hook needs a service token with scope ingest: --token-file F (or $STELE_TOKEN); create one with stele token create --scope ingest');
  const name = values.server ? 'post-receive' : 'post-commit';
  const hooksDir = resolve(repo, git(repo, ['rev-parse', '--path-format=absolute', '--git-path', 'hooks']));
  const hook = join(hooksDir, name);

  const dir = steleDir(gitDir);
  mkdirSync(join(dir, 'spool'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'token'), token + '\n', { mode: 0o600 });
  chmodSync(join(dir, 'token'), 0o600);
  const config: HookConfig = { server, ...(values['repository-url'] !== undefined && { repository: values['repository-url'] }) };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });

  mkdirSync(hooksDir, { recursive: true });
  let kept: string | undefined;
  if (existsSync(hook) && !readFileSync(hook, 'utf8').includes(MARKER)) {
    kept = `${hook}.pre-stele`;
    if (existsSync(kept)) throw new UsageError(`${hook} is not Stele's and ${kept} exists already: merge them by hand`);
    renameSync(hook, kept);
  }
  writeFileSync(hook, hookScript(name), { mode: 0o755 });
  chmodSync(hook, 0o755);
  const result = { hook, kind: name, server, spool: join(dir, 'spool'), ...(kept && { chained: kept }) };
  if (values.json) io.stdout(JSON.stringify(result) + '\n');
  else io.stdout(`installed ${hook}: reports ${values.server ? 'pushes' : 'commits'} to ${server}${kept ? ` (runs the previous hook, now ${kept}, first)` : ''}\n`);
  return EXIT.ok;
}

/** The hook itself: spool, start a background delivery, exit 0 whatever happens. */
async function runHook(args: string[], io: Io): Promise<number> {
  try {
    const { values, positionals } = parse(args, HOOK_OPTIONS, 1);
    const name = positionals[0];
    const gitDir = git(io.cwd, ['rev-parse', '--absolute-git-dir']);
    const dir = steleDir(gitDir);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as HookConfig;
    const repository = repositoryOf(io.cwd, config.repository);
    const events: Array<Record<string, unknown>> = [];
    if (name === 'post-commit') {
      const event = commitEvent(io.cwd, repository, values.commit || 'HEAD', values.branch || undefined);
      if (event) events.push(event);
    } else if (name === 'post-receive') {
      const time = new Date().toISOString();
      const input = await readAll(io.stdin);
      for (const line of input.split('\n')) {
        const event = line.trim() === '' ? undefined : pushEvent(io.cwd, repository, line, io.env, time);
        if (event) events.push(event);
      }
    }
    for (const event of events) spoolEvent(join(dir, 'spool'), event);
    if (events.length > 0 && io.env.STELE_GIT_HOOK_NO_FLUSH !== '1') {
      // Without git's hook variables (GIT_DIR may be relative to the hook's directory, not the git dir).
      const env = Object.fromEntries(Object.entries(io.env).filter(([k]) => !k.startsWith('GIT_')));
      const child = spawn(process.execPath, [BIN, 'git', 'flush', '--repo', gitDir, '--quiet'], { detached: true, stdio: 'ignore', env });
      child.on('error', () => undefined);
      child.unref();
    }
  } catch (err) {
    io.stderr(`stele git hook: ${(err as Error).message} (the git operation is not affected)\n`);
  }
  return EXIT.ok;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Statuses after which resending the same events cannot succeed: they go to `rejected/`. */
const REFUSED = new Set([400, 409, 413, 415, 422]);

async function flush(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, FLUSH_OPTIONS);
  const gitDir = gitDirOf(resolve(io.cwd, values.repo ?? '.'));
  const dir = steleDir(gitDir);
  const spool = join(dir, 'spool');
  let config: HookConfig;
  let token: string;
  try {
    config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as HookConfig;
    token = readFileSync(join(dir, 'token'), 'utf8').trim();
  } catch {
    throw new UsageError(`no Stele hook is installed in ${gitDir} (stele git install-hook)`);
  }
  const release = await lockSpool(spool, 60_000);
  if (!release) throw new UsageError(`the spool ${spool} stays locked by another delivery`);
  const totals = { sent: 0, rejected: 0, remaining: 0 };
  let failure: string | undefined;
  try {
    let names = spooled(spool);
    while (names.length > 0 && failure === undefined) {
      const batch = names.slice(0, 500);
      names = names.slice(500);
      const events = batch.map((name) => readSpooled(spool, name));
      const unreadable = batch.filter((_, i) => events[i] === undefined);
      if (unreadable.length > 0) reject(spool, unreadable);
      const good = batch.filter((_, i) => events[i] !== undefined);
      if (good.length === 0) continue;
      const body = events.filter((e) => e !== undefined).map((e) => JSON.stringify(e)).join('\n') + '\n';
      let status: number;
      try {
        const response = await fetch(`${config.server}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson', accept: 'application/json' },
          body,
          signal: AbortSignal.timeout(30_000),
        });
        status = response.status;
        await response.arrayBuffer();
      } catch (err) {
        failure = `cannot reach ${config.server}: ${(err as Error).message}`;
        break;
      }
      if (status === 201) {
        unspool(spool, good);
        totals.sent += good.length;
      } else if (REFUSED.has(status)) {
        reject(spool, good);
        totals.rejected += good.length;
      } else {
        failure = `${config.server} answered ${status}`;
      }
    }
  } finally {
    totals.remaining = spooled(spool).length;
    release();
  }
  if (values.json) io.stdout(JSON.stringify({ ...totals, ...(failure && { error: failure }) }) + '\n');
  else if (!values.quiet) io.stdout(`sent ${plural(totals.sent, 'event')}, ${totals.rejected} refused (kept in ${join(spool, 'rejected')}), ${totals.remaining} still spooled\n`);
  if (failure && !values.json && !values.quiet) io.stderr(`stele git flush: ${failure}\n`);
  return failure ? EXIT.failed : EXIT.ok;
}
