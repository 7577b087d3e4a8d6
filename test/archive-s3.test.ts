/**
 * The WORM archive against a real S3 server that enforces Object Lock (Ceph
 * RGW on loopback in CI; MinIO or AWS through the same variables, see
 * s3Helpers.ts). The real `stele` binary archives, its HTTP requests are
 * recorded as it sends them (test/fixtures/recordHttp.mjs), and the tests
 * then look at the bucket as an auditor and as an attacker would:
 *
 * - what Stele sent: never a DELETE, never a write over an existing object,
 *   every PUT locked, checksummed and conditional;
 * - what the bucket holds: the files of `stele export`, one version each;
 * - what an attacker with the owner's keys can do: not delete a version, not
 *   shorten or weaken its retention; what they can add is caught by verify;
 * - a run killed -9 mid-archive resumes without rewriting anything;
 * - a live collector archives as it goes, and once more at SIGTERM;
 * - the archive verifies on its own, with read access and the verifier key.
 */
import { cpSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, PutObjectRetentionCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { openS3Target, checkpointPath } from '@stele/archive';
import { openStore } from '@stele/store';
import { removeTempDirs, requireBuild, seedLog, stele, steleJson, tempDir } from './helpers.js';
import {
  S3, S3_SKIP_REASON, keyOf, listVersions, newBucket, runRecorded, s3Env, s3Flags, settledVersions, testClient, type RecordedRun, type SentRequest,
} from './s3Helpers.js';

if (!S3) console.warn(`test/archive-s3.test.ts: ${S3_SKIP_REASON}`);

const DAY = 86_400_000;

/** Files under a directory, relative paths with '/' separators. */
function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.set(relative(dir, full).split('\\').join('/'), readFileSync(full));
    }
  };
  walk(dir);
  return out;
}

async function getBytes(client: S3Client, bucket: string, key: string, versionId?: string): Promise<Buffer> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

/** The HTTP status an S3 call failed with, or 200 when it succeeded. */
async function statusOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return 200;
  } catch (err) {
    return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  }
}

/** Object writes: PUTs of a key (not bucket-level configuration). */
const objectPuts = (requests: SentRequest[], bucket: string) =>
  requests.filter((r) => r.method === 'PUT' && keyOf(r, bucket).key !== '');

/**
 * What every archive run must have sent: only GET, HEAD and PUT (so no
 * DELETE, no POST ?delete), no PUT of retention, legal hold or bucket
 * configuration, and every
 * object PUT locked, checksummed, conditional (but the well-known checkpoint)
 * and preceded by a HEAD that found nothing there.
 */
function expectOnlySafeRequests(requests: SentRequest[], bucket: string, prefix: string, mode: 'COMPLIANCE' | 'GOVERNANCE'): void {
  expect(requests.length).toBeGreaterThan(0);
  expect(requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD' && r.method !== 'PUT')).toEqual([]);
  for (const put of requests.filter((r) => r.method === 'PUT')) {
    expect(keyOf(put, bucket).query, put.path).not.toMatch(/(^|&)(retention|legal-hold|versioning|object-lock|policy|lifecycle|acl|tagging)(=|&|$)/);
  }
  for (const put of objectPuts(requests, bucket)) {
    const { key } = keyOf(put, bucket);
    expect({ key, mode: put.headers['x-amz-object-lock-mode'] }).toEqual({ key, mode });
    expect(Date.parse(put.headers['x-amz-object-lock-retain-until-date']!)).toBeGreaterThan(Date.now());
    expect(put.headers['content-md5'], key).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(put.headers['x-amz-checksum-sha256'], key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(put.headers['x-amz-bypass-governance-retention'], key).toBeUndefined();
    if (key === `${prefix}checkpoint`) continue; // a new version of the well-known key (docs/ARCHIVE.md)
    expect({ key, ifNoneMatch: put.headers['if-none-match'] }).toEqual({ key, ifNoneMatch: '*' });
    const headed = requests.some((r) => r.method === 'HEAD' && keyOf(r, bucket).key === key && r.status === 404);
    expect({ key, headedFirst: headed }).toEqual({ key, headedFirst: true });
  }
}

/** Every key under the prefix has exactly one version (but `checkpoint`), and there is no delete marker. */
async function expectOneVersionEach(client: S3Client, bucket: string, prefix: string): Promise<Map<string, string>> {
  const { versions, deleteMarkers } = await listVersions(client, bucket, prefix);
  expect(deleteMarkers).toEqual([]);
  const byKey = new Map<string, string[]>();
  for (const v of versions) byKey.set(v.Key!, [...(byKey.get(v.Key!) ?? []), v.VersionId!]);
  for (const [key, ids] of byKey) if (key !== `${prefix}checkpoint`) expect({ key, versions: ids.length }).toEqual({ key, versions: 1 });
  return new Map([...byKey].map(([k, ids]) => [k, ids[0]!]));
}

/** The archive equals `stele export` of the same log: the same files, byte for byte, plus checkpoints/<size>. */
async function expectSameAsExport(client: S3Client, bucket: string, prefix: string, dir: string, size: number): Promise<void> {
  const out = join(tempDir('export'), 'tiles');
  expect((await stele(['export', '--dir', dir, '--out', out])).code).toBe(0);
  const exported = filesUnder(out);
  const { versions } = await listVersions(client, bucket, prefix);
  const keys = new Set(versions.map((v) => v.Key!.slice(prefix.length)).filter((k) => !k.startsWith('checkpoints/')));
  expect(keys).toEqual(new Set(exported.keys()));
  for (const [path, bytes] of exported) expect({ path, same: (await getBytes(client, bucket, prefix + path)).equals(bytes) }).toEqual({ path, same: true });
  expect((await getBytes(client, bucket, prefix + checkpointPath(size))).equals(exported.get('checkpoint')!)).toBe(true);
}

describe.skipIf(!S3)(S3 ? `the WORM archive on S3 Object Lock at ${S3.endpoint}` : `the WORM archive on S3 Object Lock (${S3_SKIP_REASON})`, () => {
  let client: S3Client;
  let locked: string;
  let plain: string;
  let defaulted: string;
  let dir: string;
  let key: string;

  beforeAll(async () => {
    requireBuild();
    client = testClient();
    [locked, plain, defaulted] = await Promise.all([newBucket(client, 'locked'), newBucket(client, 'plain'), newBucket(client, 'locked', { mode: 'GOVERNANCE', days: 1 })]);
    dir = join(tempDir('archive-s3'), 'log');
    ({ verifierKey: key } = await seedLog(dir, 700, { origin: 'example.com/archive-s3' }));
  });

  afterAll(() => {
    client?.destroy();
    removeTempDirs();
  });

  const archive = (to: string, ...extra: string[]) => steleJson(['archive', '--dir', dir, '--to', to, ...s3Flags(), '--json', ...extra], { env: s3Env() });
  const verifyArchive = (url: string, ...extra: string[]) => steleJson(['verify', '--archive', url, '--key', key, ...s3Flags(), '--json', ...extra], { env: s3Env() });

  test('a bucket without versioning and Object Lock is refused (exit 2) unless --allow-unlocked; so is one without any retention', async () => {
    const refused = await archive(`s3://${plain}/log`, '--retention-days', '1');
    expect({ code: refused.code, error: (refused.json as { error: { code: string } }).error.code }).toEqual({ code: 2, error: 'ERR_ARCHIVE_NOT_WORM' });
    expect((await listVersions(client, plain, '')).versions).toEqual([]);

    const dev = await archive(`s3://${plain}/log`, '--allow-unlocked');
    expect({ code: dev.code, size: dev.json.size, lock: dev.json.lock }).toEqual({ code: 0, size: 700, lock: null });

    const noRetention = await archive(`s3://${locked}/none`);
    expect({ code: noRetention.code, error: (noRetention.json as { error: { code: string } }).error.code }).toEqual({ code: 2, error: 'ERR_ARCHIVE_RETENTION' });
    expect((await listVersions(client, locked, 'none/')).versions).toEqual([]);
  });

  test('archives a log: the files of stele export, each one locked version, sent safely; it verifies on its own', async () => {
    const run = runRecorded(['archive', '--dir', dir, '--to', `s3://${locked}/a`, ...s3Flags(), '--retention-days', '1', '--json']);
    const { code, stdout, stderr } = await run.exited;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toMatchObject({ size: 700, from: 0, created: 8, existing: 0, checkpoint: 'checkpoints/700', published: true, lock: { mode: 'COMPLIANCE' } });
    expectOnlySafeRequests(run.requests, locked, 'a/', 'COMPLIANCE');

    const versions = await expectOneVersionEach(client, locked, 'a/');
    expect(versions.size).toBe(9);
    for (const [k, versionId] of versions) {
      const head = await client.send(new HeadObjectCommand({ Bucket: locked, Key: k, VersionId: versionId }));
      expect({ k, mode: head.ObjectLockMode }).toEqual({ k, mode: 'COMPLIANCE' });
      expect(head.ObjectLockRetainUntilDate!.getTime()).toBeGreaterThan(Date.now() + DAY / 2);
    }
    await expectSameAsExport(client, locked, 'a/', dir, 700);

    const verified = await verifyArchive(`s3://${locked}/a`);
    expect({ code: verified.code, ...verified.json }).toMatchObject({ code: 0, ok: true, size: 700, checkpoints: 1, objects: 9, pending: 0 });

    // A second run finds everything there: it lists and reads, and writes nothing.
    const again = runRecorded(['archive', '--dir', dir, '--to', `s3://${locked}/a`, ...s3Flags(), '--retention-days', '1', '--json']);
    expect((await again.exited).code).toBe(0);
    expect(objectPuts(again.requests, locked)).toEqual([]);
  });

  test('an attacker with the owner keys cannot delete an archived version, nor shorten or weaken its retention', async () => {
    const versions = await expectOneVersionEach(client, locked, 'a/');
    for (const [k, versionId] of versions) {
      const version = { Bucket: locked, Key: k, VersionId: versionId };
      expect({ k, status: await statusOf(client.send(new DeleteObjectCommand(version))) }).toEqual({ k, status: 403 });
      expect({ k, status: await statusOf(client.send(new DeleteObjectCommand({ ...version, BypassGovernanceRetention: true }))) }).toEqual({ k, status: 403 });
      const shorter = { Mode: 'COMPLIANCE' as const, RetainUntilDate: new Date(Date.now() + 60_000) };
      expect({ k, status: await statusOf(client.send(new PutObjectRetentionCommand({ ...version, Retention: shorter }))) }).toEqual({ k, status: 403 });
      const weaker = { Mode: 'GOVERNANCE' as const, RetainUntilDate: new Date(Date.now() + 2 * DAY) };
      expect({ k, status: await statusOf(client.send(new PutObjectRetentionCommand({ ...version, Retention: weaker, BypassGovernanceRetention: true }))) }).toEqual({ k, status: 403 });
    }
    // Everything is still there and still verifies.
    await expectOneVersionEach(client, locked, 'a/');
    expect((await verifyArchive(`s3://${locked}/a`)).code).toBe(0);
  });

  test('what an attacker can add (a new version over a key, a forged checkpoint, a bogus partial tile) is caught by verify; the locked originals stay', async () => {
    const attacked = async (name: string, attack: (prefix: string) => Promise<void>, code: string) => {
      const prefix = `attacked-${name}/`;
      expect((await archive(`s3://${locked}/${prefix}`, '--retention-days', '1')).code).toBe(0);
      const before = await expectOneVersionEach(client, locked, prefix);
      await attack(prefix);
      const result = await verifyArchive(`s3://${locked}/${prefix}`);
      expect({ name, code: result.code, failed: result.json.code }).toEqual({ name, code: 1, failed: code });
      // The original versions are untouched and readable by version id.
      for (const [k, versionId] of before) await getBytes(client, locked, k, versionId);
    };
    const put = (k: string, body: Uint8Array | string) => client.send(new PutObjectCommand({ Bucket: locked, Key: k, Body: body }));
    await attacked('overwrite', (p) => put(`${p}tile/entries/001`, new Uint8Array(300)).then(() => undefined), 'ERR_BUNDLE_MALFORMED');
    await attacked('forged', async (p) => {
      await put(`${p}${checkpointPath(900)}`, await getBytes(client, locked, `${p}${checkpointPath(700)}`));
    }, 'ERR_ARCHIVE_CORRUPT');
    await attacked('partial', (p) => put(`${p}tile/0/000.p/3`, new Uint8Array(96).fill(7)).then(() => undefined), 'ERR_ROOT_MISMATCH');
    // A plain DELETE only adds a delete marker: the locked version survives (verify then misses the file).
    await attacked('hidden', (p) => client.send(new DeleteObjectCommand({ Bucket: locked, Key: `${p}tile/entries/000` })).then(() => undefined), 'ERR_TILE_MALFORMED');
  });

  test('GOVERNANCE from the bucket default: locked, and not deletable without the bypass permission', async () => {
    const result = await archive(`s3://${defaulted}/g`);
    expect({ code: result.code, mode: (result.json.lock as { mode: string }).mode }).toEqual({ code: 0, mode: 'GOVERNANCE' });
    const versions = await expectOneVersionEach(client, defaulted, 'g/');
    for (const [k, versionId] of versions) {
      expect((await client.send(new HeadObjectCommand({ Bucket: defaulted, Key: k, VersionId: versionId }))).ObjectLockMode).toBe('GOVERNANCE');
      expect({ k, status: await statusOf(client.send(new DeleteObjectCommand({ Bucket: defaulted, Key: k, VersionId: versionId }))) }).toEqual({ k, status: 403 });
    }
  });

  test('killed -9 in the middle of a run, a rerun finishes from what the bucket holds, rewriting nothing', async () => {
    const big = join(tempDir('archive-crash'), 'log');
    const { verifierKey } = await seedLog(big, 3000, { origin: 'example.com/archive-crash', batch: 500 });
    const args = ['archive', '--dir', big, '--to', `s3://${locked}/crash`, ...s3Flags(), '--retention-days', '1', '--json'];
    const first = runRecorded(args, { stallAfterPuts: 10 });
    await first.seen((r) => r.method === 'PUT' && r.status === 200, 10);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const left = await settledVersions(client, locked, 'crash/');
    const leftKeys = new Set(left.map((v) => v.Key!));
    expect(leftKeys.size).toBeGreaterThanOrEqual(10);
    expect(leftKeys.has(`crash/${checkpointPath(3000)}`)).toBe(false);

    const second = runRecorded(args);
    const done = await second.exited;
    expect({ code: done.code, stderr: done.stderr }).toEqual({ code: 0, stderr: '' });
    // What the killed run left is read back and compared (no checkpoint vouched for it yet), never written again.
    expect(JSON.parse(done.stdout)).toMatchObject({ size: 3000, existing: leftKeys.size });
    expect(objectPuts(second.requests, locked).filter((r) => leftKeys.has(keyOf(r, locked).key))).toEqual([]);
    expectOnlySafeRequests([...first.requests, ...second.requests], locked, 'crash/', 'COMPLIANCE');
    await expectOneVersionEach(client, locked, 'crash/');
    await expectSameAsExport(client, locked, 'crash/', big, 3000);
    const verified = await steleJson(['verify', '--archive', `s3://${locked}/crash`, '--key', verifierKey, ...s3Flags(), '--json'], { env: s3Env() });
    expect({ code: verified.code, ok: verified.json.ok, size: verified.json.size }).toEqual({ code: 0, ok: true, size: 3000 });
  });

  test("an archive of another log, or a log rolled back behind its archive, is refused (exit 1, ERR_ARCHIVE_DIVERGED)", async () => {
    const grown = join(tempDir('archive-rollback'), 'log');
    cpSync(dir, grown, { recursive: true });
    const old = join(tempDir('archive-rollback'), 'old');
    cpSync(dir, old, { recursive: true });
    await seedLog(grown, 100, { from: 700 });
    const to = `s3://${locked}/rollback`;
    expect((await stele(['archive', '--dir', grown, '--to', to, ...s3Flags(), '--retention-days', '1'], { env: s3Env() })).code).toBe(0);
    const rolledBack = await steleJson(['archive', '--dir', old, '--to', to, ...s3Flags(), '--retention-days', '1', '--json'], { env: s3Env() });
    expect({ code: rolledBack.code, error: (rolledBack.json as { error: { code: string } }).error.code }).toEqual({ code: 1, error: 'ERR_ARCHIVE_DIVERGED' });

    const other = join(tempDir('archive-other'), 'log');
    await seedLog(other, 900, { origin: 'example.com/another-log' });
    const foreign = await steleJson(['archive', '--dir', other, '--to', to, ...s3Flags(), '--retention-days', '1', '--json'], { env: s3Env() });
    expect({ code: foreign.code, error: (foreign.json as { error: { code: string } }).error.code }).toEqual({ code: 1, error: 'ERR_ARCHIVE_DIVERGED' });
    await expectOneVersionEach(client, locked, 'rollback/');
  });

  test('a body that does not match its checksum is refused by the store and leaves nothing', async () => {
    const target = openS3Target({ bucket: locked, prefix: 'checksum/', client });
    // After the target computed Content-MD5 and x-amz-checksum-sha256, a byte changes on the way.
    client.middlewareStack.add((next) => async (args) => {
      const request = args.request as { body?: unknown };
      if (request.body instanceof Uint8Array && request.body.length === 5) request.body = new TextEncoder().encode('HELLO');
      return next(args);
    }, { step: 'build', name: 'corruptBody' });
    let failure: { code?: string; status?: number } = {};
    try {
      await target.create('tile/0/000.p/1', new TextEncoder().encode('hello'), { mode: 'COMPLIANCE', retainUntil: new Date(Date.now() + DAY) });
    } catch (err) {
      const { code, cause } = err as { code: string; cause?: { $metadata?: { httpStatusCode?: number } } };
      failure = { code, status: cause?.$metadata?.httpStatusCode };
    } finally {
      client.middlewareStack.remove('corruptBody');
    }
    expect(failure).toEqual({ code: 'ERR_ARCHIVE_WRITE', status: 400 });
    expect((await listVersions(client, locked, 'checksum/')).versions).toEqual([]);
  });

  describe('the continuous archive of stele serve', () => {
    let server: RecordedRun | undefined;
    afterAll(() => {
      server?.child.kill('SIGKILL');
    });

    test('archives a live log as events arrive, and once more at SIGTERM; it verifies and ends where the log does', async () => {
      const live = join(tempDir('archive-live'), 'log');
      const config = join(tempDir('archive-live'), 'stele.toml');
      writeFileSync(config, [
        '[archive]',
        `to = "s3://${locked}/live"`,
        'cadenceSeconds = 1',
        'retentionDays = 1',
        `endpoint = "${S3!.endpoint}"`,
        `region = "${S3!.region}"`,
        `pathStyle = ${S3!.pathStyle}`,
      ].join('\n') + '\n');
      server = runRecorded(['serve', '--dir', live, '--port', '0', '--config', config], { env: { STELE_LOG_LEVEL: 'warn' } });
      const url = (await server.stderrMatch(/listening on (http:\/\/[^\s]+) /))[1]!;
      const token = readFileSync(join(live, 'admin.token'), 'utf8').trim();
      const archivedSizes = async () =>
        (await listVersions(client, locked, 'live/checkpoints/')).versions.map((v) => Number(v.Key!.slice('live/checkpoints/'.length)));
      for (let round = 0; round < 3; round++) {
        const events = Array.from({ length: 150 }, (_, i) => ({
          id: `live-${round}-${i}`, time: '2026-01-02T03:04:05.000Z', source: 'git', action: 'vc.commit',
          actor: { id: 'ada' }, target: { type: 'repository', id: `repo${i % 4}` },
        }));
        const res = await fetch(`${url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(events) });
        expect(res.status).toBe(201);
        const { size } = (await res.json()) as { size: number };
        // Wait for a cycle to archive at least this size (the cadence is one second).
        while (!(await archivedSizes()).some((s) => s >= size)) await new Promise((r) => setTimeout(r, 200));
      }
      server.child.kill('SIGTERM');
      const { code } = await server.exited;
      expect(code).toBe(0);

      const store = await openStore(live, { mode: 'read' });
      const size = store.log.size();
      await store.log.close();
      const sizes = await archivedSizes();
      expect(sizes.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...sizes)).toBe(size); // the last cycle at SIGTERM archived collector.stop too
      expectOnlySafeRequests(server.requests, locked, 'live/', 'COMPLIANCE');
      await expectOneVersionEach(client, locked, 'live/');
      const liveKey = readFileSync(join(live, 'verifier.key'), 'utf8').trim();
      const verified = await steleJson(['verify', '--archive', `s3://${locked}/live`, '--key', liveKey, ...s3Flags(), '--json'], { env: s3Env() });
      expect({ code: verified.code, ok: verified.json.ok, size: verified.json.size, checkpoints: verified.json.checkpoints }).toEqual({ code: 0, ok: true, size, checkpoints: sizes.length });
      expect(verified.json.pending).toBe(0);
    });

    test('stele serve refuses to start with an archive that is not write-once (exit 2); archive.allowUnlocked lets a development store through', async () => {
      const env = { ...s3Env(), STELE_ARCHIVE_TO: `s3://${plain}/serve`, STELE_ARCHIVE_RETENTION_DAYS: '1', STELE_ARCHIVE_PATH_STYLE: String(S3!.pathStyle), STELE_LOG_LEVEL: 'warn' };
      const refused = await stele(['serve', '--dir', join(tempDir('archive-refuse'), 'log'), '--port', '0'], { env });
      expect(refused.code).toBe(2);
      expect((await listVersions(client, plain, 'serve/')).versions).toEqual([]);

      server = runRecorded(['serve', '--dir', join(tempDir('archive-unlocked'), 'log'), '--port', '0'], { env: { ...env, STELE_ARCHIVE_ALLOW_UNLOCKED: 'true' } });
      await server.stderrMatch(/listening on /);
      server.child.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
      expect((await listVersions(client, plain, 'serve/checkpoints/')).versions.length).toBeGreaterThan(0);
    });
  });

  test('the recorder sees the requests of a process (a sanity check of the proof itself)', async () => {
    const run = runRecorded(['verify', '--archive', `s3://${locked}/a`, '--key', key, ...s3Flags(), '--json']);
    expect((await run.exited).code).toBe(0);
    expect(run.requests.some((r) => r.method === 'GET' && keyOf(r, locked).key === `a/${checkpointPath(700)}` && r.status === 200)).toBe(true);
  });
});
