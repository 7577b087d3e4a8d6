/**
 * One person across every source, and one ticket across every source: Alice
 * saves a file as herself (an OIDC token from a real provider on loopback,
 * which teaches the collector her IdP subject), runs kubectl under her e-mail
 * and, through an OIDC `sub` user name, under `<issuer>#<subject>`, works in
 * AWS as an IAM user and an assumed role, pushes to GitHub as `alice-gh` and
 * approves in Slack as `U2147483697`. A query for any of her identifiers
 * returns all of it, and nothing of Bob's; `ticket=INC-42` finds the save,
 * the role session, the push and the approval together; and the same answers
 * come out as OCSF, from the API and from `stele query --format ocsf`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EventRecord, OcsfEvent } from '@stele/log';
import { githubSignature, slackSignature } from '@stele/server';
import { removeTempDirs, stele, tempDir } from './helpers.js';
import { AUDIENCE, CLI_CLIENT, deviceTokens, startProvider, type TestProvider } from './oidcProvider.js';
import { fixture, startHarness, type Harness } from './sourcesHarness.js';

let provider: TestProvider;
let h: Harness;
let configFile: string;

const identities = [
  {
    email: 'alice@example.com',
    name: 'Alice Liddell',
    aws: ['arn:aws:iam::123456789012:user/alice', 'arn:aws:sts::123456789012:assumed-role/prod-admin/alice-INC-42'],
    git: ['alice-gh'],
    slack: ['U2147483697'],
  },
  { email: 'bob@example.com', kubernetes: ['oidc:bob@example.com'] },
];

beforeAll(async () => {
  provider = await startProvider();
  const settings = {
    oidc: { issuers: [{ name: 'testidp', issuer: provider.issuer, audience: AUDIENCE, clientId: CLI_CLIENT, roles: { ingest: ['*'] } }] },
    sources: { github: { secret: 'gh-secret' }, slack: { signingSecret: 'slack-secret' } },
    identities,
  };
  h = await startHarness(settings);
  configFile = join(tempDir('person'), 'stele.json');
  writeFileSync(configFile, JSON.stringify({ identities }));

  // Alice, logged in: her save is bound to her verified identity, and her first events teach the link.
  const alice = (await deviceTokens(provider.issuer, 'alice')).access_token;
  const save = { source: 'emacs', action: 'file.save', actor: { id: 'alice' }, target: { type: 'file', id: '/etc/nginx/nginx.conf', name: 'nginx.conf' }, reason: 'INC-42: raise the proxy timeout', time: '2025-06-02T11:59:00Z' };
  const saved = await h.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${alice}` }, payload: save });
  expect(saved.statusCode).toBe(201);
  const install = { source: 'emacs', action: 'package.install', actor: { id: 'alice' }, target: { type: 'package', id: 'elpa/magit-4.1.0', name: 'magit' }, time: '2025-06-02T11:58:00Z' };
  expect((await h.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${alice}` }, payload: install })).statusCode).toBe(201);

  const ingest = { authorization: `Bearer ${h.ingest}`, 'content-type': 'application/json' };
  expect((await h.app.inject({ method: 'POST', url: '/v1/sources/kubernetes', headers: ingest, payload: fixture('kubernetes-eventlist.json') })).statusCode).toBe(201);
  // The API server authenticating Alice by her OIDC `sub`: the user name is `<issuer>#<sub>` (Kubernetes' default prefix).
  const list = JSON.parse(fixture('kubernetes-eventlist.json')) as { items: Array<Record<string, unknown>> };
  const bySub = { ...list, items: [{ ...list.items[4], auditID: 'sub-0001', user: { username: `${provider.issuer}#alice`, groups: ['system:authenticated'] } }] };
  expect((await h.app.inject({ method: 'POST', url: '/v1/sources/kubernetes', headers: ingest, payload: bySub })).statusCode).toBe(201);
  for (const file of ['cloudtrail-iam.json', 'cloudtrail-sts-signin.json']) {
    expect((await h.app.inject({ method: 'POST', url: '/v1/sources/cloudtrail', headers: ingest, payload: fixture(file) })).statusCode).toBe(201);
  }
  const policy = { Records: [{ ...(JSON.parse(fixture('cloudtrail-iam.json')) as { Records: Array<Record<string, unknown>> }).Records[2], eventID: 'create-policy-1', eventName: 'CreatePolicy', requestParameters: { policyName: 'deploy', policyDocument: '{}' } }] };
  expect((await h.app.inject({ method: 'POST', url: '/v1/sources/cloudtrail', headers: ingest, payload: policy })).statusCode).toBe(201);

  const push = fixture('github-push-forced.json');
  const pushed = await h.app.inject({
    method: 'POST',
    url: '/v1/sources/github',
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'd-1', 'x-hub-signature-256': githubSignature('gh-secret', push) },
    payload: push,
  });
  expect(pushed.statusCode).toBe(201);
  const ts = String(Math.floor(Date.now() / 1000));
  const command = new URLSearchParams({ team_id: 'T0001', user_id: 'U2147483697', user_name: 'alice', command: '/stele', text: 'approve INC-42 timeout change reviewed', trigger_id: 't-1' }).toString();
  const approved = await h.app.inject({
    method: 'POST',
    url: '/v1/sources/slack',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature('slack-secret', ts, command) },
    payload: command,
  });
  expect(approved.statusCode).toBe(200);
});

afterAll(async () => {
  await h?.close();
  await provider?.close();
  removeTempDirs();
});

const sourcesOf = (events: EventRecord[]) => [...new Set(events.map((e) => e.source))].sort();
const isBob = (e: EventRecord) => e.actor.id === 'oidc:bob@example.com' || e.actor.email === 'bob@example.com';

describe('a person', () => {
  test('the first events of a logged-in person record the link between her IdP subject and e-mail, once', async () => {
    const links = (await h.events({ source: 'stele', action: 'stele.identity.link' })).events;
    expect(links).toHaveLength(1);
    expect(links[0]!.actor).toEqual({ id: 'alice', email: 'alice@example.com', idp: provider.issuer, verified: true });
    expect(links[0]!.details).toMatchObject({ subject: 'alice', kubernetesUsername: `${provider.issuer}#alice` });
  });

  test('actor=alice@example.com returns every source, and nothing of Bob', async () => {
    const { events, person } = await h.events({ actor: 'alice@example.com' });
    expect(sourcesOf(events)).toEqual(['cloudtrail', 'emacs', 'github', 'kubernetes', 'slack', 'stele']);
    expect(person).toMatchObject({ email: 'alice@example.com' });
    expect(person!.identifiers).toEqual(expect.arrayContaining(['alice@example.com', 'alice', `${provider.issuer}#alice`, 'alice-gh', 'U2147483697', 'arn:aws:iam::123456789012:user/alice']));
    // Her kubectl session authenticated by subject, found only through the learned link.
    expect(events.some((e) => e.actor.id === `${provider.issuer}#alice`)).toBe(true);
    // Her exec and secret read, and her assumed role's work; Carol's SSO login is not hers.
    expect(events.filter((e) => e.source === 'kubernetes' && e.details?.privileged === true).map((e) => e.details!.privilege).sort()).toEqual(['exec', 'exec', 'secrets']);
    expect(events.some((e) => e.id === 'cloudtrail/73e18fd4-6c91-4c82-9093-a4b5EXAMPLE7')).toBe(true);
    expect(events.some((e) => e.actor.email === 'carol@example.com')).toBe(false);
    expect(events.some(isBob)).toBe(false);
    // Newest first, each once.
    expect(events.map((e) => e.index)).toEqual([...events.map((e) => e.index)].sort((a, b) => b - a));
    expect(new Set(events.map((e) => e.index)).size).toBe(events.length);
  });

  test('any of her identifiers names the whole person', async () => {
    const all = (await h.events({ actor: 'alice@example.com' })).events.map((e) => e.index);
    for (const identifier of ['arn:aws:iam::123456789012:user/alice', 'U2147483697', 'alice-gh', `${provider.issuer}#alice`]) {
      expect((await h.events({ actor: identifier })).events.map((e) => e.index)).toEqual(all);
    }
  });

  test('pages with a person: limit and cursor walk the same events without overlap', async () => {
    const all = (await h.events({ actor: 'alice@example.com' })).events.map((e) => e.index);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { events: EventRecord[]; next: string | null } = await h.events({ actor: 'alice@example.com', limit: '4', ...(cursor && { cursor }) });
      seen.push(...page.events.map((e) => e.index));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual(all);
  });

  test('with other filters: her Kubernetes events only', async () => {
    const { events } = await h.events({ actor: 'alice@example.com', source: 'kubernetes' });
    expect(events.length).toBe(4);
    expect(sourcesOf(events)).toEqual(['kubernetes']);
  });

  test('stele query --actor expands the same way from the CLI, with the identities of --config', async () => {
    const api = (await h.events({ actor: 'alice@example.com' })).events.map((e) => e.id);
    const cli = await stele(['query', '--dir', h.dir, '--actor', 'alice@example.com', '--config', configFile, '--limit', '1000', '--json']);
    expect(cli.code).toBe(0);
    expect(cli.stdout.trim().split('\n').map((l) => (JSON.parse(l) as EventRecord).id)).toEqual(api);
  });
});

describe('a ticket', () => {
  test('ticket=INC-42 finds the save, the role session, the push and the approval together', async () => {
    const { events } = await h.events({ ticket: 'INC-42' });
    expect(sourcesOf(events)).toEqual(['cloudtrail', 'emacs', 'github', 'slack']);
    expect(events.map((e) => e.action).sort()).toEqual(['aws.s3.put_bucket_policy', 'aws.sts.assume_role', 'change.approve', 'file.save', 'vc.push.force']);
    const other = (await h.events({ ticket: 'OPS-77' })).events;
    expect(other.map((e) => e.source)).toEqual(['kubernetes']);
    expect((await h.events({ ticket: 'inc-42' })).events.length).toBe(events.length);
  });

  test('stele query --ticket gives the same events', async () => {
    const api = (await h.events({ ticket: 'INC-42' })).events.map((e) => e.id);
    const cli = await stele(['query', '--dir', h.dir, '--ticket', 'INC-42', '--json']);
    expect(cli.stdout.trim().split('\n').map((l) => (JSON.parse(l) as EventRecord).id)).toEqual(api);
  });

  test('a ticket with white space is a bad request', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/events?ticket=INC-42%20INC-43', headers: { authorization: `Bearer ${h.read}` } });
    expect(res.statusCode).toBe(400);
  });
});

describe('OCSF', () => {
  const ocsf = async (query: Record<string, string>) => (await h.events({ ...query, format: 'ocsf' })).events as unknown as OcsfEvent[];
  const classOf = (events: OcsfEvent[], uid: string) => events.find((e) => (e.metadata as { uid: string }).uid === uid)!;

  test('each kind of event in its class, with the base attributes OCSF requires', async () => {
    const events = await ocsf({});
    const records = (await h.events({})).events;
    expect(events).toHaveLength(records.length);
    for (const e of events) {
      expect(e.type_uid).toBe(e.class_uid * 100 + e.activity_id);
      expect(e).toMatchObject({ category_uid: Math.floor(e.class_uid / 1000), metadata: { version: '1.3.0', product: { name: 'Stele' } } });
      expect(typeof e.time).toBe('number');
      expect(typeof e.severity_id).toBe('number');
      if (e.class_uid === 6003) expect(e).toHaveProperty('api.operation');
    }
    const record = (predicate: (r: EventRecord) => boolean) => classOf(events, records.find(predicate)!.id);
    expect(record((r) => r.action === 'file.save')).toMatchObject({ class_uid: 1001, activity_id: 3, file: { path: '/etc/nginx/nginx.conf', name: 'nginx.conf' } });
    expect(record((r) => r.action === 'package.install')).toMatchObject({ class_uid: 6002, activity_id: 1, app: { name: 'magit' } });
    expect(classOf(events, 'cloudtrail/1d8b2f7e-0c3b-4c2c-9a3d-4e5fEXAMPLE1')).toMatchObject({ class_uid: 3001, activity_id: 1, user: { name: 'deploy-bot' }, severity_id: 3 });
    expect(classOf(events, 'cloudtrail/3fad4b90-2e5d-4e4e-9c5f-6071EXAMPLE3')).toMatchObject({ class_uid: 3001, activity_id: 7, policy: { uid: 'arn:aws:iam::aws:policy/AdministratorAccess' } });
    expect(classOf(events, 'cloudtrail/create-policy-1')).toMatchObject({ class_uid: 3004, activity_id: 1 });
    expect(classOf(events, 'cloudtrail/62d07ec3-5b80-4b71-8f82-93a4EXAMPLE6')).toMatchObject({ class_uid: 6003, api: { operation: 'AssumeRole', service: { name: 'sts.amazonaws.com' } }, cloud: { provider: 'AWS', region: 'us-east-1' } });
    expect(record((r) => r.action === 'k8s.exec')).toMatchObject({ class_uid: 6003, activity_id: 1, src_endpoint: { ip: '10.0.4.17' }, metadata: { labels: ['privileged', 'exec'] } });
    expect(record((r) => r.action === 'vc.push.force')).toMatchObject({ class_uid: 6003, activity_id: 3, api: { operation: 'push' } });
    expect(record((r) => r.source === 'slack')).toMatchObject({ class_uid: 0 });
  });

  test('stele query --format ocsf prints the same events as JSON Lines', async () => {
    const api = await ocsf({ actor: 'alice@example.com' });
    const cli = await stele(['query', '--dir', h.dir, '--actor', 'alice@example.com', '--config', configFile, '--limit', '1000', '--format', 'ocsf']);
    expect(cli.code).toBe(0);
    expect(cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as OcsfEvent)).toEqual(api);
  });

  test('an unknown format is a bad request, and so is --format with --json', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/events?format=cef', headers: { authorization: `Bearer ${h.read}` } });
    expect(res.statusCode).toBe(400);
    expect((await stele(['query', '--dir', h.dir, '--format', 'ocsf', '--json'])).code).toBe(2);
  });
});
