/**
 * The signed webhooks, in-process: GitHub push events verified with
 * `X-Hub-Signature-256` and Slack slash commands verified with the v0 signing
 * secret. Each has a signature matrix (good, bad, missing, replayed) where a
 * refusal is a 401 with its own code and appends nothing, and a replay of a
 * good request is recorded once. The GitHub payload is a forced push written
 * from GitHub's documented schema; the Slack one a `/stele approve` command.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EventRecord } from '@stele/log';
import { githubSignature, slackSignature } from '@stele/server';
import { codeOf, fixture, startHarness, type Harness } from './sourcesHarness.js';

const GITHUB_SECRET = 'It’s a Secret to Everybody';
const SLACK_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sources: { github: { secret: GITHUB_SECRET }, slack: { signingSecret: SLACK_SECRET } } });
});
afterAll(() => h?.close());

describe('GitHub push webhooks', () => {
  const body = fixture('github-push-forced.json');
  const send = (payload: string, headers: Record<string, string | undefined>) =>
    h.app.inject({
      method: 'POST',
      url: '/v1/sources/github',
      headers: Object.fromEntries(Object.entries({ 'content-type': 'application/json', 'x-github-event': 'push', ...headers }).filter(([, v]) => v !== undefined)) as Record<string, string>,
      payload,
    });

  test('a forced push, signed: one vc.push.force event with the pusher, the commits and the ticket', async () => {
    const res = await send(body, { 'x-hub-signature-256': githubSignature(GITHUB_SECRET, body), 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
    expect(res.statusCode).toBe(201);
    const [e] = (await h.events({ source: 'github' })).events as [EventRecord];
    expect(e.id).toBe('github/72d3162e-cc78-11e3-81ab-4c9367dc0958');
    expect(e.action).toBe('vc.push.force');
    expect(e.actor).toEqual({ id: 'alice-gh', email: 'alice@example.com', name: 'alice-gh', verified: false });
    expect(e.target).toEqual({ type: 'repository', id: 'https://github.com/acme/platform', name: 'acme/platform' });
    expect(e.time).toBe('2025-06-02T12:00:00.000Z');
    expect(e.reason).toContain('Revert the cache change');
    expect(e.submitter).toMatchObject({ type: 'webhook', id: 'github' });
    expect(e.details).toMatchObject({
      tickets: ['INC-42'],
      git: {
        ref: 'refs/heads/main',
        before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
        after: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
        forced: true,
        deleted: false,
        created: false,
        commitCount: 1,
        commits: [{ id: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c', author: { email: 'alice@example.com' }, committer: { email: 'alice@example.com' } }],
      },
    });
  });

  test('a branch deletion is vc.ref.delete', async () => {
    const payload = JSON.stringify({ ...JSON.parse(body), ref: 'refs/heads/cache', after: '0'.repeat(40), deleted: true, forced: false, commits: [], head_commit: null });
    const res = await send(payload, { 'x-hub-signature-256': githubSignature(GITHUB_SECRET, payload), 'x-github-delivery': 'delete-1' });
    expect(res.statusCode).toBe(201);
    const e = (await h.events({ source: 'github', action: 'vc.ref.delete' })).events[0]!;
    expect(e.details).toMatchObject({ git: { ref: 'refs/heads/cache', deleted: true, forced: false } });
  });

  test('a form-encoded delivery is verified over the raw body too', async () => {
    const payload = `payload=${encodeURIComponent(body)}`;
    const res = await send(payload, { 'content-type': 'application/x-www-form-urlencoded', 'x-hub-signature-256': githubSignature(GITHUB_SECRET, payload), 'x-github-delivery': 'form-1' });
    expect(res.statusCode).toBe(201);
  });

  const tampered = body.replace('"forced": true', '"forced": false');
  const matrix: Array<[string, () => ReturnType<typeof send>, number, string]> = [
    ['missing', () => send(body, { 'x-github-delivery': 'm-1' }), 401, 'ERR_SIGNATURE_MISSING'],
    ['bad: another secret', () => send(body, { 'x-hub-signature-256': githubSignature('guess', body), 'x-github-delivery': 'b-1' }), 401, 'ERR_SIGNATURE_INVALID'],
    ['bad: the body altered after signing', () => send(tampered, { 'x-hub-signature-256': githubSignature(GITHUB_SECRET, body), 'x-github-delivery': 'b-2' }), 401, 'ERR_SIGNATURE_INVALID'],
    ['bad: SHA-1 instead of SHA-256', () => send(body, { 'x-hub-signature-256': githubSignature(GITHUB_SECRET, body).replace('sha256=', 'sha1='), 'x-github-delivery': 'b-3' }), 401, 'ERR_SIGNATURE_INVALID'],
    ['bad: truncated', () => send(body, { 'x-hub-signature-256': githubSignature(GITHUB_SECRET, body).slice(0, 40), 'x-github-delivery': 'b-4' }), 401, 'ERR_SIGNATURE_INVALID'],
  ];
  test.each(matrix)('signature %s: refused, nothing appended', async (_name, request, status, code) => {
    const size = h.size();
    const res = await request();
    expect(res.statusCode).toBe(status);
    expect(codeOf(res)).toBe(code);
    expect(h.size()).toBe(size);
  });

  test('signature replayed: the same delivery again is a duplicate, not a second push', async () => {
    const size = h.size();
    const res = await send(body, { 'x-hub-signature-256': githubSignature(GITHUB_SECRET, body), 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
    expect(res.statusCode).toBe(201);
    expect(res.json().entries[0].duplicate).toBe(true);
    expect(h.size()).toBe(size);
  });

  test('signed but not a push: ping is answered, other events are ignored, a broken payload is 422; none appends', async () => {
    const size = h.size();
    const ping = await send('{"zen":"Keep it logically awesome."}', { 'x-github-event': 'ping', 'x-hub-signature-256': githubSignature(GITHUB_SECRET, '{"zen":"Keep it logically awesome."}') });
    expect(ping.statusCode).toBe(200);
    const issues = await send('{"action":"opened"}', { 'x-github-event': 'issues', 'x-hub-signature-256': githubSignature(GITHUB_SECRET, '{"action":"opened"}') });
    expect(issues.statusCode).toBe(202);
    const broken = await send('{"ref":"refs/heads/main"}', { 'x-hub-signature-256': githubSignature(GITHUB_SECRET, '{"ref":"refs/heads/main"}') });
    expect(broken.statusCode).toBe(422);
    expect(codeOf(broken)).toBe('ERR_PAYLOAD_INVALID');
    const notJson = await send('payload', { 'x-hub-signature-256': githubSignature(GITHUB_SECRET, 'payload') });
    expect(codeOf(notJson)).toBe('ERR_MALFORMED_JSON');
    expect(h.size()).toBe(size);
  });
});

describe('Slack approvals', () => {
  const form = (text: string, trigger = '13345224609.738474920.8088930838d88f008e0') =>
    new URLSearchParams({
      token: 'gIkuvaNzQIHg97ATvDxqgjtO', team_id: 'T0001', team_domain: 'acme', channel_id: 'C2147483705', channel_name: 'ops',
      user_id: 'U2147483697', user_name: 'alice', command: '/stele', text, api_app_id: 'A123456', trigger_id: trigger,
      response_url: 'https://hooks.slack.com/commands/1234/5678',
    }).toString();
  const now = () => String(Math.floor(Date.now() / 1000));
  const send = (payload: string, headers: Record<string, string | undefined>) =>
    h.app.inject({
      method: 'POST',
      url: '/v1/sources/slack',
      headers: Object.fromEntries(Object.entries({ 'content-type': 'application/x-www-form-urlencoded', ...headers }).filter(([, v]) => v !== undefined)) as Record<string, string>,
      payload,
    });
  const signed = (payload: string, ts = now(), secret = SLACK_SECRET) => send(payload, { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(secret, ts, payload) });

  test('/stele approve INC-42 ...: an approval by the Slack user, answered in the channel', async () => {
    const ts = now();
    const res = await signed(form('approve INC-42 rollout reviewed, go ahead'), ts);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ response_type: 'in_channel' });
    const [e] = (await h.events({ source: 'slack' })).events as [EventRecord];
    expect(e.action).toBe('change.approve');
    expect(e.actor).toEqual({ id: 'U2147483697', name: 'alice', verified: false });
    expect(e.target).toEqual({ type: 'ticket', id: 'INC-42' });
    expect(e.reason).toBe('rollout reviewed, go ahead');
    expect(e.time).toBe(new Date(Number(ts) * 1000).toISOString());
    expect(e.details).toMatchObject({ tickets: ['INC-42'], slack: { team_id: 'T0001', channel_name: 'ops', user_name: 'alice' } });
    // The token Slack sends in the form (deprecated verification token) is not kept.
    expect(JSON.stringify(e)).not.toContain('gIkuvaNzQIHg97ATvDxqgjtO');
  });

  test('a command Stele does not understand gets help, and nothing is recorded', async () => {
    const size = h.size();
    for (const text of ['', 'help', 'approve', 'approve not-a-ticket because']) {
      const res = await signed(form(text, `t-${text.length}`));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ response_type: 'ephemeral' });
    }
    expect(h.size()).toBe(size);
  });

  const old = () => String(Math.floor(Date.now() / 1000) - 301);
  const matrix: Array<[string, () => ReturnType<typeof send>, string]> = [
    ['missing signature', () => send(form('approve INC-43 x', 'm1'), { 'x-slack-request-timestamp': now() }), 'ERR_SIGNATURE_MISSING'],
    ['missing timestamp', () => send(form('approve INC-43 x', 'm2'), { 'x-slack-signature': slackSignature(SLACK_SECRET, now(), form('approve INC-43 x', 'm2')) }), 'ERR_SIGNATURE_MISSING'],
    ['bad: another secret', () => signed(form('approve INC-43 x', 'b1'), now(), 'not-the-secret'), 'ERR_SIGNATURE_INVALID'],
    ['bad: the body altered after signing', () => {
      const ts = now();
      return send(form('approve INC-43 x', 'b2'), { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SLACK_SECRET, ts, form('approve INC-44 x', 'b2')) });
    }, 'ERR_SIGNATURE_INVALID'],
    ['bad: signed for another timestamp', () => {
      const ts = now();
      return send(form('approve INC-43 x', 'b3'), { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SLACK_SECRET, String(Number(ts) - 1), form('approve INC-43 x', 'b3')) });
    }, 'ERR_SIGNATURE_INVALID'],
    ['replayed: a good signature more than five minutes old', () => signed(form('approve INC-43 x', 'r1'), old()), 'ERR_SIGNATURE_EXPIRED'],
    ['replayed: a timestamp from the future', () => signed(form('approve INC-43 x', 'r2'), String(Math.floor(Date.now() / 1000) + 301)), 'ERR_SIGNATURE_EXPIRED'],
  ];
  test.each(matrix)('%s: 401, nothing appended', async (_name, request, code) => {
    const size = h.size();
    const res = await request();
    expect(res.statusCode).toBe(401);
    expect(codeOf(res)).toBe(code);
    expect(h.size()).toBe(size);
  });

  test('replayed within the window: the same command again is recorded once', async () => {
    const ts = now();
    const payload = form('approve INC-45 ship it', 'replay-1');
    expect((await signed(payload, ts)).statusCode).toBe(200);
    const size = h.size();
    const again = await signed(payload, ts);
    expect(again.statusCode).toBe(200);
    expect(again.json().entries[0].duplicate).toBe(true);
    expect(h.size()).toBe(size);
  });

  test('signed but without the fields of a slash command: 422, nothing appended', async () => {
    const size = h.size();
    const res = await signed('text=approve+INC-46');
    expect(res.statusCode).toBe(422);
    expect(codeOf(res)).toBe('ERR_PAYLOAD_INVALID');
    expect(h.size()).toBe(size);
  });
});

describe('a webhook source without its secret is off', () => {
  let off: Harness;
  beforeAll(async () => {
    off = await startHarness();
  });
  afterAll(() => off?.close());

  test.each([['github'], ['slack']])('%s: 404 ERR_SOURCE_DISABLED', async (source) => {
    const res = await off.app.inject({ method: 'POST', url: `/v1/sources/${source}`, headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(res.statusCode).toBe(404);
    expect(codeOf(res)).toBe('ERR_SOURCE_DISABLED');
    expect(off.size()).toBe(0);
  });
});
