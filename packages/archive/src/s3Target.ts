/**
 * The S3 target: objects under a bucket's prefix, written with Object Lock
 * (mode and retain-until on every PUT), an integrity checksum the store checks
 * (Content-MD5, and x-amz-checksum-sha256 where the store knows it), and
 * never over an existing object: a HEAD first (stores such as Ceph RGW 16
 * ignore conditional PUTs on versioned buckets), then a PUT with
 * `If-None-Match: *` (AWS refuses it atomically when the key appeared in
 * between). The AWS SDK v3 does the signing, retries and connection reuse.
 */
import { createHash } from 'node:crypto';
import {
  GetBucketVersioningCommand, GetObjectCommand, GetObjectLockConfigurationCommand, HeadObjectCommand, ListObjectsV2Command,
  PutObjectCommand, S3Client, type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { ArchiveError } from './errors.js';
import type { ArchiveTarget, Lock, LockMode, WormStatus } from './target.js';

/** How to reach the bucket. Credentials come from the AWS SDK's default chain unless given. */
export interface S3TargetOptions {
  bucket: string;
  /** Empty, or ends in `/`. */
  prefix: string;
  /** A ready client (tests add middleware to it); the options below are then ignored. */
  client?: S3Client;
  /** An S3-compatible endpoint (MinIO, Ceph RGW); AWS when absent. */
  endpoint?: string;
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible stores need. */
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** The SDK's error shape: a name and the HTTP status. */
interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
  message?: string;
}

const status = (err: unknown): number | undefined => (err as SdkError)?.$metadata?.httpStatusCode;
const errName = (err: unknown): string => (err as SdkError)?.name ?? 'Error';
const describe = (err: unknown): string => `${errName(err)}${status(err) ? ` (HTTP ${status(err)})` : ''}: ${(err as SdkError)?.message ?? String(err)}`;

const b64 = (algorithm: 'md5' | 'sha256', bytes: Uint8Array): string => createHash(algorithm).update(bytes).digest('base64');

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/**
 * Turns off the AWS SDK's warning, nine lines on stderr before anything else
 * on every run under Node 20, that its releases after January 2027 will need
 * Node 22: Stele runs on Node 20 with the SDK release its lockfile pins. The
 * SDK's own switch, left alone when the user has set it.
 */
export function quietSdkNodeWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/**
 * Makes an S3 client for the archive. Checksums are sent and validated only
 * where Stele asks (it sends its own SHA-256 and MD5), so the SDK adds no
 * CRC32 trailers that older S3-compatible stores refuse.
 */
export function createS3Client(options: Omit<S3TargetOptions, 'bucket' | 'prefix' | 'client'>): S3Client {
  quietSdkNodeWarning();
  return new S3Client({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    forcePathStyle: options.forcePathStyle ?? false,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Opens a bucket prefix as an archive target. Nothing is sent until a method is called. */
export function openS3Target(options: S3TargetOptions): ArchiveTarget {
  const { bucket, prefix } = options;
  const client = options.client ?? createS3Client(options);
  const url = `s3://${bucket}/${prefix}`;
  const key = (path: string) => prefix + path;

  const unreachable = (what: string, err: unknown) =>
    new ArchiveError('ERR_ARCHIVE_UNREACHABLE', `${what} ${url}: ${describe(err)}`, { cause: err });

  async function read(path: string): Promise<Uint8Array | undefined> {
    try {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key(path) }));
      return await res.Body!.transformToByteArray();
    } catch (err) {
      if (status(err) === 404) return undefined;
      throw unreachable(`cannot read ${path} from`, err);
    }
  }

  async function exists(path: string): Promise<boolean> {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key(path) }));
      return true;
    } catch (err) {
      if (status(err) === 404) return false;
      throw unreachable(`cannot look up ${path} in`, err);
    }
  }

  /** An object is there: it must hold exactly our bytes, or the archive and the log disagree. */
  async function existing(path: string, bytes: Uint8Array): Promise<'exists'> {
    const there = await read(path);
    if (there === undefined || !sameBytes(there, bytes)) {
      throw new ArchiveError('ERR_ARCHIVE_CONFLICT', `${url}${path} exists with other content than the log's`);
    }
    return 'exists';
  }

  function putInput(path: string, bytes: Uint8Array, lock: Lock | undefined): PutObjectCommandInput {
    return {
      Bucket: bucket,
      Key: key(path),
      Body: bytes,
      ContentLength: bytes.length,
      ContentType: path.endsWith('checkpoint') || path.startsWith('checkpoints/') ? 'text/plain; charset=utf-8' : 'application/octet-stream',
      ContentMD5: b64('md5', bytes),
      ChecksumSHA256: b64('sha256', bytes),
      ...(lock ? { ObjectLockMode: lock.mode, ObjectLockRetainUntilDate: lock.retainUntil } : {}),
    };
  }

  async function put(path: string, input: PutObjectCommandInput): Promise<'created' | 'precondition'> {
    try {
      await client.send(new PutObjectCommand(input));
      return 'created';
    } catch (err) {
      // 412: the key appeared since our HEAD (another writer); 409: a concurrent conditional write.
      if (status(err) === 412 || status(err) === 409) return 'precondition';
      throw new ArchiveError('ERR_ARCHIVE_WRITE', `cannot write ${path} to ${url}: ${describe(err)}`, { cause: err });
    }
  }

  return {
    url,
    async inspect(): Promise<WormStatus> {
      let versioning: boolean;
      try {
        versioning = (await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status === 'Enabled';
      } catch (err) {
        throw unreachable('cannot read the versioning of', err);
      }
      try {
        const config = (await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration;
        const rule = config?.Rule?.DefaultRetention;
        const days = rule?.Days ?? (rule?.Years === undefined ? undefined : rule.Years * 366);
        return {
          versioning,
          objectLock: config?.ObjectLockEnabled === 'Enabled',
          ...(rule?.Mode && days ? { defaultRetention: { mode: rule.Mode as LockMode, days } } : {}),
        };
      } catch (err) {
        if (status(err) === 404) return { versioning, objectLock: false };
        throw unreachable('cannot read the Object Lock configuration of', err);
      }
    },
    async *list() {
      let token: string | undefined;
      do {
        let page;
        try {
          page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        } catch (err) {
          throw unreachable('cannot list', err);
        }
        for (const o of page.Contents ?? []) if (o.Key?.startsWith(prefix)) yield o.Key.slice(prefix.length);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    read,
    async create(path, bytes, lock) {
      if (await exists(path)) return existing(path, bytes);
      const result = await put(path, { ...putInput(path, bytes, lock), IfNoneMatch: '*' });
      return result === 'created' ? 'created' : existing(path, bytes);
    },
    async publish(path, bytes, lock) {
      // A new version of the well-known key; every earlier version stays, locked (docs/ARCHIVE.md).
      await put(path, putInput(path, bytes, lock));
    },
    async close() {
      if (!options.client) client.destroy();
    },
  };
}
