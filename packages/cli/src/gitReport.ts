import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { basename } from 'node:path';
import { DEFAULT_TICKET_PATTERNS, fitEvent, fitPush, ticketMatchers, ticketsIn, type SourceEvent } from '@stele/server';

/**
 * What the git hooks report (docs/SOURCES.md, "Git"): a commit (`vc.commit`,
 * from `post-commit`) and each ref a push updated (`vc.push`,
 * `vc.push.force`, `vc.ref.delete`, from `post-receive`), in the same shape
 * as GitHub's push webhooks. Everything is read with plain `git` commands.
 */

/** Most commits one push event lists (the rest are counted). */
const MAX_COMMITS = 100;
const ZERO = /^0+$/;
const tickets = ticketMatchers(DEFAULT_TICKET_PATTERNS);
// eslint-disable-next-line no-control-regex -- removing control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Runs git in a directory and returns its stdout without the final newline. */
export function git(cwd: string, args: readonly string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 }).replace(/\n$/, '');
}

/** Like {@link git}, undefined instead of an error. */
function tryGit(cwd: string, args: readonly string[]): string | undefined {
  try {
    return git(cwd, args);
  } catch {
    return undefined;
  }
}

const text = (value: string, max: number) => Array.from(value.replace(CONTROL, '')).slice(0, max).join('').trim();
const short = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16);
/** This machine's name as `host` takes it: no white space, at most 255 characters. */
const host = () => text(hostname(), 255).replace(/\s+/g, '-') || 'unknown';

/** A commit as the events list it. */
interface Commit {
  id: string;
  parents: string[];
  message: string;
  author: { name: string; email: string; date: string };
  committer: { name: string; email: string; date: string };
}

const FORMAT = '%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B%x1e';

/** The commits `git log` lists for these arguments, newest first. */
function commits(cwd: string, args: readonly string[]): Commit[] {
  const out = tryGit(cwd, ['log', `--format=${FORMAT}`, `--max-count=${MAX_COMMITS}`, ...args]) ?? '';
  return out
    .split('\x1e')
    .map((record) => record.replace(/^\n/, ''))
    .filter((record) => record.includes('\x00'))
    .map((record) => {
      const [id, parents, an, ae, ad, cn, ce, cd, message] = record.split('\x00') as string[];
      return {
        id: id!,
        parents: parents ? parents.split(' ') : [],
        message: text(message ?? '', 4096),
        author: { name: text(an!, 256), email: text(ae!, 254), date: ad! },
        committer: { name: text(cn!, 256), email: text(ce!, 254), date: cd! },
      };
    });
}

const EMAIL = /^[^\s@:/]+@[^\s@:/]+\.[^\s@:/]+$/;

/** An actor for a git identity: the e-mail is the id (git has no other), and the e-mail when it is one. */
function actorFor(name: string, email: string): SourceEvent['actor'] {
  const id = email || name || 'unknown';
  return { id: text(id, 256), ...(EMAIL.test(email) && { email }), ...(name && { name }), verified: false };
}

/** The repository as events name it: the configured URL, else `origin`'s URL, else the path. */
export function repositoryOf(cwd: string, configured: string | undefined): { id: string; name: string } {
  const id = configured ?? tryGit(cwd, ['config', '--get', 'remote.origin.url']) ?? tryGit(cwd, ['rev-parse', '--show-toplevel']) ?? tryGit(cwd, ['rev-parse', '--absolute-git-dir'])!;
  return { id: text(id, 4096), name: text(basename(id).replace(/\.git$/, ''), 1024) || 'repository' };
}

/**
 * The `vc.commit` event of a commit (the hook names the one it ran for: by
 * the time a background hook runs, HEAD may have moved on), or undefined when
 * there is none.
 */
export function commitEvent(cwd: string, repository: { id: string; name: string }, rev = 'HEAD', branchName?: string): Record<string, unknown> | undefined {
  const [commit] = commits(cwd, ['-1', rev]);
  if (!commit) return undefined;
  const branch = branchName || tryGit(cwd, ['symbolic-ref', '-q', '--short', 'HEAD']);
  const found = ticketsIn([commit.message, branch], tickets);
  const where = host();
  return fitEvent({
    id: `git-commit/${commit.id}/${short(where, repository.id)}`,
    time: commit.committer.date,
    source: 'git',
    action: 'vc.commit',
    actor: actorFor(commit.committer.name, commit.committer.email),
    target: { type: 'repository', ...repository },
    outcome: 'success',
    ...(commit.message && { reason: commit.message }),
    host: where,
    details: {
      ...(found.length > 0 && { tickets: found }),
      operation: 'commit',
      service: 'git',
      git: { repository: repository.id, commit: commit.id, parents: commit.parents, ...(branch && { branch }), author: commit.author, committer: commit.committer },
    },
  } as SourceEvent);
}

/** Who pushed: what the git server says (Gitolite, GitLab, Gitea, a web server's REMOTE_USER), else the account the hook runs as. */
export function pusherOf(env: NodeJS.ProcessEnv): { id: string; email?: string; via: string } {
  const email = env.GITEA_PUSHER_EMAIL;
  for (const via of ['GL_USER', 'GL_USERNAME', 'GITEA_PUSHER_NAME', 'REMOTE_USER', 'USER', 'LOGNAME']) {
    const value = env[via];
    if (value) return { id: text(value, 256), ...(email && { email }), via };
  }
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry
  }
  return { id: user, via: 'os' };
}

/** The tips of every ref but this one: a new branch's own commits are those none of them reaches. */
function otherTips(cwd: string, ref: string): string[] {
  const tips = new Set<string>();
  for (const line of (tryGit(cwd, ['for-each-ref', '--format=%(objectname) %(refname)']) ?? '').split('\n')) {
    const [sha, name] = line.split(' ');
    if (sha && name && name !== ref) tips.add(sha);
  }
  return [...tips];
}

/** The event of one ref update a push made (a line of post-receive's input: `<old> <new> <ref>`). */
export function pushEvent(cwd: string, repository: { id: string; name: string }, line: string, env: NodeJS.ProcessEnv, time: string): Record<string, unknown> | undefined {
  const [before, after, ref] = line.trim().split(/\s+/);
  if (!before || !after || !ref || !/^[0-9a-f]+$/.test(before) || !/^[0-9a-f]+$/.test(after)) return undefined;
  const created = ZERO.test(before);
  const deleted = ZERO.test(after);
  // Not a fast-forward: the old tip is not an ancestor of the new one.
  const forced = !created && !deleted && spawnSync('git', ['merge-base', '--is-ancestor', before, after], { cwd, stdio: 'ignore' }).status === 1;
  const range = deleted ? [] : created ? [after, '--not', ...otherTips(cwd, ref)] : [`${before}..${after}`];
  const listed = deleted ? [] : commits(cwd, range);
  const count = deleted ? 0 : Number(tryGit(cwd, ['rev-list', '--count', ...range]) ?? listed.length);
  const dropped = forced ? Number(tryGit(cwd, ['rev-list', '--count', `${after}..${before}`]) ?? 0) : 0;
  const pusher = pusherOf(env);
  const found = ticketsIn([ref, ...listed.map((c) => c.message)], tickets);
  return fitPush({
    id: `git-push/${short(repository.id, ref, before, after, time)}`,
    time,
    source: 'git',
    action: deleted ? 'vc.ref.delete' : forced ? 'vc.push.force' : 'vc.push',
    actor: { id: pusher.id, ...(pusher.email && EMAIL.test(pusher.email) && { email: pusher.email }), verified: false },
    target: { type: 'repository', ...repository },
    outcome: 'success',
    ...(listed[0]?.message && { reason: listed[0].message }),
    host: host(),
    details: {
      ...(found.length > 0 && { tickets: found }),
      operation: 'push',
      service: 'git',
      git: {
        repository: repository.id,
        ref,
        before,
        after,
        created,
        deleted,
        forced,
        commits: listed.map((c) => ({ id: c.id, message: Array.from(c.message).slice(0, 1024).join(''), author: c.author, committer: c.committer })),
        commitCount: count,
        ...(count > listed.length && { commitsOmitted: count - listed.length }),
        ...(forced && { dropped }),
        pusher: { id: pusher.id, via: pusher.via },
      },
    },
  } as SourceEvent);
}
