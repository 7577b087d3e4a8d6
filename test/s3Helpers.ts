/**
 * Shared helpers of the archive tests that need a real S3 server with Object
 * Lock. The endpoint and credentials come from the environment, so the same
 * tests run against Ceph RGW on loopback (what `.ci/run` starts), MinIO or AWS:
 *
 * - STELE_TEST_S3_ENDPOINT    e.g. http://127.0.0.1:7480 (required; the tests are skipped without it)
 * - STELE_TEST_S3_ACCESS_KEY, STELE_TEST_S3_SECRET_KEY (else the AWS SDK's default chain)
 * - STELE_TEST_S3_REGION      default us-east-1
 * - STELE_TEST_S3_PATH_STYLE  default true; false for AWS's virtual-hosted buckets
 *
 * Each run makes new buckets named stele-test-<random>. Their objects are
 * locked for a day in COMPLIANCE mode: against AWS, use a throw-away account.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CreateBucketCommand, ListObjectVersionsCommand, PutObjectLockConfigurationCommand, S3Client, type ObjectVersion, type DeleteMarkerEntry,
} from '@aws-sdk/client-s3';
import { BIN, requireBuild } from './helpers.js';

// The SDK's notice that its 2027 releases need Node 22 is about upgrades, not these tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The S3 server the tests use, from the environment; undefined when none is configured. */
export const S3 = process.env.STELE_TEST_S3_ENDPOINT
  ? {
      endpoint: process.env.STELE_TEST_S3_ENDPOINT,
      region: process.env.STELE_TEST_S3_REGION || 'us-east-1',
      pathStyle: process.env.STELE_TEST_S3_PATH_STYLE !== 'false',
      accessKey: process.env.STELE_TEST_S3_ACCESS_KEY,
      secretKey: process.env.STELE_TEST_S3_SECRET_KEY,
    }
  : undefined;

/** Why the S3 tests do not run here, shown by Vitest and printed once. */
export const S3_SKIP_REASON =
  'skipped: STELE_TEST_S3_ENDPOINT is not set, so there is no S3 server with Object Lock to test against. ' +
  'Start one with `../shared/tools/s3-object-lock/start-rgw.sh /tmp/rgw` and set STELE_TEST_S3_ENDPOINT=http://127.0.0.1:7480 ' +
  'STELE_TEST_S3_ACCESS_KEY=STELETESTKEY STELE_TEST_S3_SECRET_KEY=STELETESTSECRET (.ci/run does)';

/** An S3 client for the tests' own requests (setting up buckets, and attacking them). */
export function testClient(): S3Client {
  return new S3Client({
    endpoint: S3!.endpoint,
    region: S3!.region,
    forcePathStyle: S3!.pathStyle,
    ...(S3!.accessKey && S3!.secretKey ? { credentials: { accessKeyId: S3!.accessKey, secretAccessKey: S3!.secretKey } } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The environment a `stele` child needs to reach the test server. */
export function s3Env(): Record<string, string> {
  return {
    AWS_REGION: S3!.region,
    ...(S3!.accessKey && S3!.secretKey ? { AWS_ACCESS_KEY_ID: S3!.accessKey, AWS_SECRET_ACCESS_KEY: S3!.secretKey } : {}),
    STELE_ARCHIVE_ENDPOINT: S3!.endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** The endpoint flags of `stele archive` and `stele verify --archive`. */
export const s3Flags = (): string[] => ['--endpoint', S3!.endpoint, '--region', S3!.region, ...(S3!.pathStyle ? ['--path-style'] : [])];

/** Creates a new bucket: with Object Lock (and optionally a default retention), or a plain one. */
export async function newBucket(client: S3Client, kind: 'locked' | 'plain', defaultRetention?: { mode: 'COMPLIANCE' | 'GOVERNANCE'; days: number }): Promise<string> {
  const bucket = `stele-test-${randomBytes(5).toString('hex')}`;
  await client.send(new CreateBucketCommand({
    Bucket: bucket,
    ...(kind === 'locked' ? { ObjectLockEnabledForBucket: true } : {}),
    ...(S3!.region !== 'us-east-1' ? { CreateBucketConfiguration: { LocationConstraint: S3!.region as never } } : {}),
  }));
  if (defaultRetention) {
    await client.send(new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: defaultRetention.mode, Days: defaultRetention.days } } },
    }));
  }
  return bucket;
}

/** Every version and delete marker under a prefix. */
export async function listVersions(client: S3Client, bucket: string, prefix: string): Promise<{ versions: ObjectVersion[]; deleteMarkers: DeleteMarkerEntry[] }> {
  const versions: ObjectVersion[] = [];
  const deleteMarkers: DeleteMarkerEntry[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    const page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
    versions.push(...(page.Versions ?? []));
    deleteMarkers.push(...(page.DeleteMarkers ?? []));
    if (!page.IsTruncated) return { versions, deleteMarkers };
    keyMarker = page.NextKeyMarker;
    versionMarker = page.NextVersionIdMarker;
  }
}

/**
 * The versions under a prefix once the bucket has settled: uploads a killed
 * process had already sent can still land at the gateway after it died, so
 * the bucket is listed until two readings, a quarter of a second apart, agree.
 */
export async function settledVersions(client: S3Client, bucket: string, prefix: string): Promise<ObjectVersion[]> {
  const keys = (versions: ObjectVersion[]) => versions.map((v) => `${v.Key} ${v.VersionId}`).sort().join('\n');
  let last = (await listVersions(client, bucket, prefix)).versions;
  for (let tries = 0; tries < 40; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = (await listVersions(client, bucket, prefix)).versions;
    if (keys(now) === keys(last)) return now;
    last = now;
  }
  throw new Error(`the versions under ${prefix} kept changing for 10 s`);
}

/** One HTTP request a `stele` process sent, as test/fixtures/recordHttp.mjs saw it. */
export interface SentRequest {
  method: string;
  host: string;
  /** Path and query as sent. */
  path: string;
  headers: Record<string, string>;
  /** The response status; null when the request failed without one. */
  status: number | null;
}

/** The object key a request names (path-style or virtual-hosted), and its query. */
export function keyOf(request: SentRequest, bucket: string): { key: string; query: string } {
  const [path = '', query = ''] = request.path.split('?');
  const decoded = decodeURIComponent(path);
  const key = decoded.startsWith(`/${bucket}/`) ? decoded.slice(bucket.length + 2) : decoded === `/${bucket}` ? '' : decoded.slice(1);
  return { key, query };
}

const RECORDER = pathToFileURL(fileURLToPath(new URL('./fixtures/recordHttp.mjs', import.meta.url))).href;

/** A `stele` child whose HTTP requests are recorded. */
export interface RecordedRun {
  child: ChildProcess;
  requests: SentRequest[];
  /** Resolves when the child has exited, with its code or signal and output. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves when the recorder has seen `count` requests matching `match`. */
  seen(match: (r: SentRequest) => boolean, count?: number): Promise<void>;
  /** Resolves with the first match of `pattern` in stderr (a collector's "listening on" line). */
  stderrMatch(pattern: RegExp): Promise<RegExpExecArray>;
}

/**
 * Runs `stele ...args` with the HTTP recorder preloaded. `stallAfterPuts`
 * freezes it after that many successful PUTs (then kill it).
 */
export function runRecorded(args: readonly string[], options: { env?: Record<string, string>; stallAfterPuts?: number } = {}): RecordedRun {
  requireBuild();
  const env: NodeJS.ProcessEnv = { ...process.env, ...s3Env(), ...options.env };
  delete env.STELE_DIR;
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import ${RECORDER}`.trim();
  env.STELE_TEST_HTTP_RECORD_FD = '3';
  if (options.stallAfterPuts !== undefined) env.STELE_TEST_HTTP_STALL_AFTER = String(options.stallAfterPuts);
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const requests: SentRequest[] = [];
  const waiters: { match: (r: SentRequest) => boolean; count: number; resolve: () => void }[] = [];
  let pending = '';
  const check = () => {
    for (const w of waiters.splice(0)) {
      if (requests.filter(w.match).length >= w.count) w.resolve();
      else waiters.push(w);
    }
  };
  const recordStream = child.stdio[3] as NodeJS.ReadableStream;
  recordStream.setEncoding('utf8');
  recordStream.on('data', (text: string) => {
    const lines = (pending + text).split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line) requests.push(JSON.parse(line) as SentRequest);
    check();
  });
  let stdout = '';
  let stderr = '';
  const stderrWaiters: (() => void)[] = [];
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => {
    stderr += t;
    for (const w of stderrWaiters.splice(0)) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    requests,
    exited,
    seen: (match, count = 1) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ match, count, resolve });
        check();
        void exited.then(() => {
          if (requests.filter(match).length < count) reject(new Error(`stele exited before sending ${count} matching requests:\n${stderr}`));
        });
      }),
    stderrMatch: (pattern) =>
      new Promise((resolve, reject) => {
        const look = () => {
          const match = pattern.exec(stderr);
          if (match) resolve(match);
          else stderrWaiters.push(look);
        };
        look();
        void exited.then(() => reject(new Error(`stele exited before printing ${pattern}:\n${stderr}`)));
      }),
  };
}
