import {
  actorOf, clean, cleanReason, fitPush, idPart, objectOf, PayloadError, stableId, stringOf, ticketsIn, type SourceEvent,
} from './normalize.js';

/**
 * GitHub push webhooks (`X-GitHub-Event: push`), verified with
 * `X-Hub-Signature-256` before this sees the body. One event per push, in the
 * same shape as the server-side git hook's (docs/SOURCES.md): forced pushes
 * are `vc.push.force`, branch and tag deletions `vc.ref.delete`.
 */

/** Most commits one push event lists (GitHub sends at most 2,048; the rest are counted). */
export const MAX_PUSH_COMMITS = 100;

const ZERO = /^0{40}(0{24})?$/;

/** A commit's person (`{name, email, username}`), fitted. */
function person(value: unknown): Record<string, string> | undefined {
  const p = objectOf(value);
  if (!p) return undefined;
  const out: Record<string, string> = {};
  for (const key of ['name', 'email', 'username', 'date'] as const) {
    const text = clean(p[key], 256);
    if (text !== undefined) out[key] = text;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The commits a push lists, each fitted: id, message (first 1,024 characters), author, committer, time. */
export function pushCommits(value: unknown): Array<Record<string, unknown>> {
  if (!Array.isArray(value)) return [];
  return value.slice(0, MAX_PUSH_COMMITS).flatMap((raw) => {
    const c = objectOf(raw);
    const id = clean(c?.id, 64);
    if (!c || id === undefined) return [];
    const message = cleanReason(c.message);
    return [{
      id,
      ...(message !== undefined && { message: Array.from(message).slice(0, 1024).join('') }),
      ...(person(c.author) && { author: person(c.author) }),
      ...(person(c.committer) && { committer: person(c.committer) }),
      ...(typeof c.timestamp === 'string' && { timestamp: c.timestamp }),
      ...(typeof c.distinct === 'boolean' && { distinct: c.distinct }),
    }];
  });
}

/** A push's time: `repository.pushed_at` (epoch seconds in push payloads), else the head commit's. */
function pushTime(repository: Record<string, unknown> | undefined, head: Record<string, unknown> | undefined): string | undefined {
  const pushed = repository?.pushed_at;
  if (typeof pushed === 'number' && Number.isSafeInteger(pushed) && pushed > 0) return new Date(pushed * 1000).toISOString();
  if (typeof pushed === 'string' && pushed !== '') return pushed;
  return stringOf(head?.timestamp);
}

/**
 * Maps a push payload onto one Stele event, id `github/<delivery id>` (a
 * redelivery is recorded once).
 *
 * @param body - the parsed payload (signature already checked)
 * @param delivery - `X-GitHub-Delivery`
 * @throws PayloadError when it is not a push payload
 */
export function githubPushEvent(body: unknown, delivery: string | undefined, tickets: readonly RegExp[]): SourceEvent {
  const p = objectOf(body);
  const ref = stringOf(p?.ref);
  const before = stringOf(p?.before);
  const after = stringOf(p?.after);
  const repository = objectOf(p?.repository);
  const sender = objectOf(p?.sender);
  const pusher = objectOf(p?.pusher);
  const problems = [
    ...(!ref ? [{ item: -1, field: 'ref', message: 'is required' }] : []),
    ...(!before || !/^[0-9a-f]{40,64}$/.test(before) ? [{ item: -1, field: 'before', message: 'must be a commit id' }] : []),
    ...(!after || !/^[0-9a-f]{40,64}$/.test(after) ? [{ item: -1, field: 'after', message: 'must be a commit id' }] : []),
    ...(!stringOf(repository?.full_name) ? [{ item: -1, field: 'repository.full_name', message: 'is required' }] : []),
  ];
  const actor = actorOf({ id: sender?.login ?? pusher?.name, email: pusher?.email, name: pusher?.name });
  if (!actor) problems.push({ item: -1, field: 'sender.login', message: 'is required' });
  if (problems.length > 0) throw new PayloadError(problems);

  const created = p!.created === true || ZERO.test(before!);
  const deleted = p!.deleted === true || ZERO.test(after!);
  const forced = p!.forced === true && !deleted;
  const head = objectOf(p!.head_commit);
  const commits = pushCommits(p!.commits);
  const total = Array.isArray(p!.commits) ? p!.commits.length : 0;
  const fullName = clean(repository!.full_name, 1024)!;
  const reason = cleanReason(head?.message);
  const found = ticketsIn([ref, ...commits.map((c) => c.message)], tickets);
  const time = pushTime(repository, head);
  return fitPush({
    id: delivery ? `github/${idPart(delivery)}` : stableId('github', fullName, ref!, before!, after!),
    ...(time && { time }),
    source: 'github',
    action: deleted ? 'vc.ref.delete' : forced ? 'vc.push.force' : 'vc.push',
    actor: actor!,
    target: { type: 'repository', id: clean(repository!.html_url, 4096) ?? fullName, name: fullName },
    outcome: 'success',
    ...(reason && !deleted && { reason }),
    details: {
      ...(found.length > 0 && { tickets: found }),
      operation: 'push',
      service: 'github',
      ...(delivery && { requestId: clean(delivery, 128) }),
      git: {
        repository: fullName,
        ref: clean(ref, 1024),
        before,
        after,
        created,
        deleted,
        forced,
        ...(typeof p!.base_ref === 'string' && { baseRef: p!.base_ref }),
        ...(typeof p!.compare === 'string' && { compare: clean(p!.compare, 2048) }),
        commits,
        commitCount: total,
        ...(total > commits.length && { commitsOmitted: total - commits.length }),
        ...(sender && clean(sender.login, 256) && { sender: clean(sender.login, 256) }),
        ...(pusher && person(pusher) && { pusher: person(pusher) }),
      },
    },
  });
}
