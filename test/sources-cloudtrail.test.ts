/**
 * AWS CloudTrail: log files written from CloudTrail's documented record
 * schema (CreateAccessKey, CreateLoginProfile by root, AttachUserPolicy, a
 * refused DeleteRole, AssumeRole and the assumed role's work, console logins
 * through SSO and a failed one, an IAM Identity Center user) posted plain and
 * gzip to the collector in-process; then `stele ingest cloudtrail` through the
 * real binary on a folder of delivered `.json.gz` files, twice (and once more
 * without its state file) with no record appended twice, locally, to a real
 * collector, and from an S3 bucket when an S3 server is configured.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EventRecord } from '@stele/log';
import { openStore } from '@stele/store';
import { removeTempDirs, stele, steleJson, tempDir } from './helpers.js';
import { codeOf, fixture, startHarness, type Harness } from './sourcesHarness.js';
import { startCollector } from './sourcesProcess.js';

// The SDK's notice that its 2027 releases need Node 22 is about upgrades, not these tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
  removeTempDirs();
});

const post = (body: Buffer | string, headers: Record<string, string> = {}, token: string | null = h.ingest) =>
  h.app.inject({
    method: 'POST',
    url: '/v1/sources/cloudtrail',
    headers: { 'content-type': 'application/json', ...(token !== null && { authorization: `Bearer ${token}` }), ...headers },
    payload: body,
  });

const byId = (events: EventRecord[], eventID: string) => events.find((e) => e.id === `cloudtrail/${eventID}`)!;

describe('the collector maps CloudTrail records', () => {
  let events: EventRecord[];
  beforeAll(async () => {
    const plain = await post(fixture('cloudtrail-iam.json'));
    expect(plain.statusCode).toBe(201);
    expect(plain.json().entries).toHaveLength(5);
    const gzip = await post(gzipSync(fixture('cloudtrail-sts-signin.json')), { 'content-encoding': 'gzip' });
    expect(gzip.statusCode).toBe(201);
    expect(gzip.json().entries).toHaveLength(5);
    events = (await h.events({ source: 'cloudtrail' })).events;
  });

  test('CreateAccessKey by an IAM user: the user is the actor, the call is privileged', () => {
    const e = byId(events, '1d8b2f7e-0c3b-4c2c-9a3d-4e5fEXAMPLE1');
    expect(e.action).toBe('aws.iam.create_access_key');
    expect(e.actor).toEqual({ id: 'arn:aws:iam::123456789012:user/alice', name: 'alice', verified: false });
    expect(e.target).toEqual({ type: 'AWS::IAM::User', id: 'deploy-bot', name: 'deploy-bot' });
    expect(e.outcome).toBe('success');
    expect(e.time).toBe('2025-06-02T12:10:00.000Z');
    expect(e.details).toMatchObject({ privileged: true, privilege: 'iam', operation: 'CreateAccessKey', service: 'iam.amazonaws.com', sourceIPs: ['198.51.100.7'] });
  });

  test('the root user is the actor of its calls, every one privileged; a password never enters the log', () => {
    const e = byId(events, '2e9c3a8f-1d4c-4d3d-8b4e-5f60EXAMPLE2');
    expect(e.actor).toMatchObject({ id: 'arn:aws:iam::123456789012:root', name: 'root' });
    expect(e.details).toMatchObject({ privileged: true, privilege: 'root' });
    const params = (e.details!.aws as Record<string, Record<string, unknown>>).requestParameters!;
    expect(params.password).toMatchObject({ omitted: true, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  test('a refused IAM change is a privileged failure; a read is not privileged', () => {
    const denied = byId(events, '40be5ca1-3f6e-4f5f-8d60-7182EXAMPLE4');
    expect(denied.outcome).toBe('failure');
    expect(denied.details).toMatchObject({ privileged: true, status: { code: 'AccessDenied' } });
    const read = byId(events, '51cf6db2-4a7f-4a60-9e71-8293EXAMPLE5');
    expect(read.details!.privileged).toBeUndefined();
  });

  test('AssumeRole hands out credentials: privileged, the role is the target, the session token is only a digest, the session name its ticket', async () => {
    const e = byId(events, '62d07ec3-5b80-4b71-8f82-93a4EXAMPLE6');
    expect(e.action).toBe('aws.sts.assume_role');
    expect(e.target).toEqual({ type: 'AWS::IAM::Role', id: 'arn:aws:iam::123456789012:role/prod-admin' });
    expect(e.details).toMatchObject({ privileged: true, privilege: 'sts', tickets: ['INC-42'] });
    const stored = await h.store.log.entryById(e.id);
    expect(Buffer.from(stored!.bytes).toString('utf8')).not.toContain('IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN');
  });

  test('an assumed role acts as its session, with the role (session issuer) as its group', () => {
    const e = byId(events, '73e18fd4-6c91-4c82-9093-a4b5EXAMPLE7');
    expect(e.actor).toEqual({
      id: 'arn:aws:sts::123456789012:assumed-role/prod-admin/alice-INC-42',
      name: 'alice-INC-42',
      groups: ['arn:aws:iam::123456789012:role/prod-admin'],
      verified: false,
    });
    expect(e.target).toEqual({ type: 'AWS::S3::Bucket', id: 'arn:aws:s3:::prod-artifacts' });
    expect(e.details!.privileged).toBeUndefined();
    expect(e.details!.tickets).toEqual(['INC-42']);
  });

  test('console logins: an SSO session named by e-mail carries the e-mail; a failed login is a failure', () => {
    const sso = byId(events, '84f290e5-7da2-4d93-80a4-b5c6EXAMPLE8');
    expect(sso.action).toBe('aws.signin.console_login');
    expect(sso.actor.email).toBe('carol@example.com');
    expect(sso.outcome).toBe('success');
    const failed = byId(events, '95a3a1f6-8eb3-4ea4-91b5-c6d7EXAMPLE9');
    expect(failed.outcome).toBe('failure');
    expect(failed.actor).toMatchObject({ id: 'AIDACKCEVSQ6C2EXAMPLE', name: 'bob' });
  });

  test('an IAM Identity Center user is named by its user id, with the identity store as idp', () => {
    const e = byId(events, 'a6b4b207-9fc4-4fb5-a2c6-d7e8EXAMPLEA');
    expect(e.actor).toMatchObject({ id: '94482488-3041-7026-18f3-be45837cd0e4', idp: 'arn:aws:identitystore::123456789012:identitystore/d-9067642ac7' });
  });

  test('the same file again, plain or gzip without a header, appends nothing', async () => {
    const size = h.size();
    const again = await post(gzipSync(fixture('cloudtrail-iam.json')), { 'content-type': 'application/octet-stream' });
    expect(again.statusCode).toBe(201);
    expect(again.json().entries.every((e: { duplicate?: boolean }) => e.duplicate)).toBe(true);
    expect(h.size()).toBe(size);
  });
});

describe('bad files: a 4xx with a code, and nothing appended', () => {
  const record = () => (JSON.parse(fixture('cloudtrail-iam.json')) as { Records: Array<Record<string, unknown>> }).Records[0]!;
  const cases: Array<[string, () => ReturnType<typeof post>, number, string]> = [
    ['no credential', () => post(fixture('cloudtrail-iam.json'), {}, null), 401, 'ERR_AUTH_MISSING'],
    ['not JSON', () => post('Records'), 400, 'ERR_MALFORMED_JSON'],
    ['gzip that is not', () => post('{"Records":[]}', { 'content-encoding': 'gzip' }), 400, 'ERR_BAD_REQUEST'],
    ['an encoding other than gzip', () => post(fixture('cloudtrail-iam.json'), { 'content-encoding': 'br' }), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['a gzip bomb', () => post(gzipSync(Buffer.alloc(17 * 1024 * 1024, 0x20)), { 'content-encoding': 'gzip' }), 413, 'ERR_BODY_TOO_LARGE'],
    ['no Records', () => post('{"records":[]}'), 422, 'ERR_PAYLOAD_INVALID'],
    ['an empty file', () => post('{"Records":[]}'), 400, 'ERR_BAD_REQUEST'],
    ['a record without eventID, after a good one', () => {
      const { eventID: _drop, ...rest } = record();
      return post(JSON.stringify({ Records: [{ ...record(), eventID: 'fresh-1' }, rest] }));
    }, 422, 'ERR_PAYLOAD_INVALID'],
    ['a record without userIdentity', () => post(JSON.stringify({ Records: [{ ...record(), eventID: 'fresh-2', userIdentity: undefined }] })), 422, 'ERR_PAYLOAD_INVALID'],
    ['a malformed eventTime', () => post(JSON.stringify({ Records: [{ ...record(), eventID: 'fresh-3', eventTime: 'yesterday' }] })), 422, 'ERR_EVENT_INVALID'],
  ];
  test.each(cases)('%s', async (_name, send, status, code) => {
    const size = h.size();
    const res = await send();
    expect(res.statusCode).toBe(status);
    expect(codeOf(res)).toBe(code);
    expect(h.size()).toBe(size);
  });
});

/** A delivered-log folder: both fixtures gzip, and a third file repeating a record (CloudTrail may deliver one twice). */
function deliveredFolder(): string {
  const root = tempDir('cloudtrail');
  const day = join(root, 'AWSLogs/123456789012/CloudTrail/us-east-1/2025/06/02');
  mkdirSync(day, { recursive: true });
  writeFileSync(join(day, '123456789012_CloudTrail_us-east-1_20250602T1210Z_a1.json.gz'), gzipSync(fixture('cloudtrail-iam.json')));
  writeFileSync(join(day, '123456789012_CloudTrail_us-east-1_20250602T1220Z_b2.json.gz'), gzipSync(fixture('cloudtrail-sts-signin.json')));
  const repeat = { Records: [(JSON.parse(fixture('cloudtrail-iam.json')) as { Records: unknown[] }).Records[0]] };
  writeFileSync(join(day, '123456789012_CloudTrail_us-east-1_20250602T1225Z_c3.json.gz'), gzipSync(JSON.stringify(repeat)));
  writeFileSync(join(day, 'README.txt'), 'not a log file');
  return root;
}

/** Every eventID in a log, with how often it occurs. */
async function eventIds(dir: string): Promise<Map<string, number>> {
  const store = await openStore(dir, { mode: 'read' });
  try {
    const counts = new Map<string, number>();
    for (const e of await store.log.query({ source: 'cloudtrail', limit: 1000 })) {
      const id = (e.record.details!.aws as { eventID: string }).eventID;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  } finally {
    await store.log.close();
  }
}

describe('stele ingest cloudtrail FOLDER', () => {
  test('into the local log: twice, and once more without the state file, with no record twice', async () => {
    const folder = deliveredFolder();
    const dir = join(tempDir('ingest'), 'log');
    expect((await stele(['init', '--dir', dir])).code).toBe(0);
    const first = await steleJson(['ingest', 'cloudtrail', folder, '--dir', dir, '--json']);
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({ files: 3, skipped: 0, records: 11, appended: 10, duplicates: 1 });
    const second = await steleJson(['ingest', 'cloudtrail', folder, '--dir', dir, '--json']);
    expect(second.json).toMatchObject({ files: 0, skipped: 3, appended: 0 });
    rmSync(join(dir, 'ingest-cloudtrail.json'));
    const third = await steleJson(['ingest', 'cloudtrail', folder, '--dir', dir, '--json']);
    expect(third.json).toMatchObject({ files: 3, appended: 0, duplicates: 11 });
    const ids = await eventIds(dir);
    expect(ids.size).toBe(10);
    expect([...ids.values()].every((n) => n === 1)).toBe(true);
  });

  test('to a collector over a socket, as files delivered: the same', async () => {
    const folder = deliveredFolder();
    const dir = join(tempDir('ingest-remote'), 'data');
    const collector = await startCollector(dir);
    try {
      const env = { STELE_TOKEN: collector.adminToken, XDG_STATE_HOME: tempDir('state') };
      const first = await steleJson(['ingest', 'cloudtrail', folder, '--server', collector.url, '--json'], { env });
      expect(first.code).toBe(0);
      expect(first.json).toMatchObject({ files: 3, appended: 10, duplicates: 1 });
      const second = await steleJson(['ingest', 'cloudtrail', folder, '--server', collector.url, '--json'], { env });
      expect(second.json).toMatchObject({ files: 0, skipped: 3, appended: 0 });
    } finally {
      await collector.stop();
    }
    const ids = await eventIds(dir);
    expect(ids.size).toBe(10);
    expect([...ids.values()].every((n) => n === 1)).toBe(true);
  });

  test('a file that is not a CloudTrail log stops the run with exit 2 and is not marked read', async () => {
    const folder = tempDir('cloudtrail-bad');
    writeFileSync(join(folder, 'a.json'), '{"Records":[{"eventID":"x"}]}');
    const dir = join(tempDir('ingest-bad'), 'log');
    expect((await stele(['init', '--dir', dir])).code).toBe(0);
    const result = await stele(['ingest', 'cloudtrail', folder, '--dir', dir, '--json']);
    expect(result.code).toBe(2);
    const again = await stele(['ingest', 'cloudtrail', folder, '--dir', dir, '--json']);
    expect(again.code).toBe(2);
  });
});

/**
 * The S3 path against a real S3-compatible server: the same environment as the
 * archive tests (STELE_TEST_S3_ENDPOINT, STELE_TEST_S3_ACCESS_KEY,
 * STELE_TEST_S3_SECRET_KEY, STELE_TEST_S3_REGION); skipped without it.
 */
const S3_ENDPOINT = process.env.STELE_TEST_S3_ENDPOINT;
const S3_SKIP = 'STELE_TEST_S3_ENDPOINT is not set: no S3 server to read CloudTrail files from. Start one with ../shared/tools/s3-object-lock/start-rgw.sh /tmp/rgw and set STELE_TEST_S3_ENDPOINT=http://127.0.0.1:7480 STELE_TEST_S3_ACCESS_KEY=STELETESTKEY STELE_TEST_S3_SECRET_KEY=STELETESTSECRET';
if (!S3_ENDPOINT) console.warn(`sources-cloudtrail: S3 ingest skipped: ${S3_SKIP}`);

describe.skipIf(!S3_ENDPOINT)('stele ingest cloudtrail s3://BUCKET/PREFIX (S3-compatible endpoint, path style)', () => {
  test('lists the prefix in key order, ingests every file once, and a second run reads nothing', async () => {
    const { S3Client, CreateBucketCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
    const region = process.env.STELE_TEST_S3_REGION || 'us-east-1';
    const accessKeyId = process.env.STELE_TEST_S3_ACCESS_KEY;
    const secretAccessKey = process.env.STELE_TEST_S3_SECRET_KEY;
    const client = new S3Client({
      endpoint: S3_ENDPOINT,
      region,
      forcePathStyle: true,
      ...(accessKeyId && secretAccessKey && { credentials: { accessKeyId, secretAccessKey } }),
    });
    const bucket = `stele-ct-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      const prefix = 'AWSLogs/123456789012/CloudTrail/us-east-1/2025/06/02/';
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}a1.json.gz`, Body: gzipSync(fixture('cloudtrail-iam.json')) }));
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}b2.json.gz`, Body: gzipSync(fixture('cloudtrail-sts-signin.json')) }));
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'AWSLogs/123456789012/CloudTrail-Digest/ignored.txt', Body: 'digest' }));
    } finally {
      client.destroy();
    }
    const dir = join(tempDir('ingest-s3'), 'log');
    expect((await stele(['init', '--dir', dir])).code).toBe(0);
    const env = {
      AWS_REGION: region,
      ...(accessKeyId && secretAccessKey && { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey }),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const args = ['ingest', 'cloudtrail', `s3://${bucket}/AWSLogs/`, '--endpoint', S3_ENDPOINT!, '--dir', dir, '--json'];
    const first = await steleJson(args, { env });
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({ files: 2, appended: 10, duplicates: 0 });
    const second = await steleJson(args, { env });
    expect(second.json).toMatchObject({ files: 0, skipped: 2, appended: 0 });
    expect((await eventIds(dir)).size).toBe(10);
  });
});
