import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { cloudtrailEvents, DEFAULT_TICKET_PATTERNS, localActor, PayloadError, ticketMatchers } from '@stele/server';
import { quietSdkNodeWarning } from '@stele/archive';
import { openStore } from '@stele/store';
import { chooseServer } from '../credentials.js';
import { EXIT, type Io } from '../io.js';
import { answerError, collectorRequest } from '../remote.js';
import { oneLine, plural } from '../text.js';
import { DIR_OPTION, UsageError, dataDir, parse, subcommand, subcommandError } from '../usage.js';

/**
 * `stele ingest cloudtrail PATH|s3://BUCKET[/PREFIX] [--server URL | --dir D]
 * [--state FILE] [--endpoint URL] [--region R] [--json]`: reads CloudTrail
 * log files (`*.json.gz`, `*.json`) from a folder or a bucket, in key order,
 * and appends their records: to a collector (POST /v1/sources/cloudtrail,
 * the file as delivered) or to the local log. A state file remembers which
 * files were read; each record's `eventID` is its event id, so even a lost
 * state file never appends a record twice.
 */
export async function ingest(args: string[], io: Io): Promise<number> {
  const { sub: kind, rest } = subcommand(args, OPTIONS);
  const { values, positionals } = parse(rest, OPTIONS, 1);
  if (kind !== 'cloudtrail') throw subcommandError('ingest', kind, 'cloudtrail PATH|s3://BUCKET/PREFIX [--server URL]');
  const location = positionals[0];
  if (location === undefined) throw new UsageError('name the CloudTrail files: a folder, or s3://BUCKET/PREFIX');
  const server = values.server !== undefined ? chooseServer(io, values.server) : undefined;
  const files = location.startsWith('s3://') ? await s3Files(io, location, values.endpoint, values.region) : await folderFiles(resolve(io.cwd, location));
  const statePath = values.state !== undefined ? resolve(io.cwd, values.state) : server ? join(stateHome(io), 'ingest-cloudtrail.json') : join(dataDir(io, values.dir), 'ingest-cloudtrail.json');
  const sourceKey = `${location.startsWith('s3://') ? `${values.endpoint ?? 'aws'} ${location}` : resolve(io.cwd, location)} -> ${server ?? dataDir(io, values.dir)}`;
  const state = readState(statePath);
  const read = new Set(state.sources[sourceKey] ?? []);

  const fresh = files.filter((f) => !read.has(f.key));
  const deliver = server ? remoteDelivery(io, server) : await localDelivery(dataDir(io, values.dir));
  // The log's size after the run: the local log's own, a collector's as its last answer gave it (null when nothing was sent).
  const totals = { files: fresh.length, skipped: files.length - fresh.length, records: 0, appended: 0, duplicates: 0, size: deliver.size() };
  try {
    for (const file of fresh) {
      const bytes = await file.read();
      let result: { appended: number; duplicates: number; size: number | undefined };
      try {
        result = await deliver.send(bytes, file.key);
      } catch (err) {
        if (err instanceof PayloadError) throw new UsageError(`${file.key}: not a CloudTrail log file: ${err.message}`);
        throw err;
      }
      totals.records += result.appended + result.duplicates;
      totals.appended += result.appended;
      totals.duplicates += result.duplicates;
      totals.size = result.size ?? null;
      // Saved after each file: a crash re-reads at most the file in flight, whose records are duplicates then.
      read.add(file.key);
      state.sources[sourceKey] = [...read];
      writeState(statePath, state);
      if (!values.json) io.stderr(`stele ingest: ${file.key}: ${result.appended} appended, ${result.duplicates} already there\n`);
    }
  } finally {
    await deliver.close();
  }
  if (values.json) io.stdout(JSON.stringify(totals) + '\n');
  else io.stdout(`read ${plural(totals.files, 'new file')} (${totals.skipped} read before): ${plural(totals.appended, 'event')} appended, ${totals.duplicates} already in the log\n`);
  return EXIT.ok;
}

const OPTIONS = {
  ...DIR_OPTION,
  server: { type: 'string' },
  state: { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** A CloudTrail file to read: its key (path or object key) and its bytes. */
interface LogFile {
  key: string;
  read(): Promise<Uint8Array>;
}

const isLogFile = (name: string) => name.endsWith('.json.gz') || name.endsWith('.json');

async function folderFiles(root: string): Promise<LogFile[]> {
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (err) {
    throw new UsageError(`cannot read ${root}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return entries
    .filter((e) => e.isFile() && isLogFile(e.name))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort()
    .map((key) => ({ key, read: async () => new Uint8Array(await readFile(join(root, key))) }));
}

/** Lists a bucket prefix with the AWS SDK (loaded only for s3:// locations); an endpoint means an S3-compatible store, addressed path-style. */
async function s3Files(io: Io, location: string, endpoint: string | undefined, region: string | undefined): Promise<LogFile[]> {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
  if (!match) throw new UsageError('an S3 location is s3://BUCKET[/PREFIX]');
  const [, bucket, prefix] = match as unknown as [string, string, string];
  const { S3Client, ListObjectsV2Command, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const endpointUrl = endpoint ?? io.env.AWS_ENDPOINT_URL_S3 ?? io.env.AWS_ENDPOINT_URL;
  const credentials = io.env.AWS_ACCESS_KEY_ID && io.env.AWS_SECRET_ACCESS_KEY
    ? { accessKeyId: io.env.AWS_ACCESS_KEY_ID, secretAccessKey: io.env.AWS_SECRET_ACCESS_KEY, ...(io.env.AWS_SESSION_TOKEN && { sessionToken: io.env.AWS_SESSION_TOKEN }) }
    : undefined;
  quietSdkNodeWarning();
  const client = new S3Client({
    region: region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpointUrl && { endpoint: endpointUrl, forcePathStyle: true }),
    ...(credentials && { credentials }),
  });
  const keys: string[] = [];
  try {
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token && { ContinuationToken: token }) }));
      for (const object of page.Contents ?? []) if (object.Key && isLogFile(object.Key)) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (err) {
    client.destroy();
    throw new UsageError(`cannot list ${location}: ${(err as Error).name}: ${(err as Error).message}`);
  }
  return keys.sort().map((key) => ({
    key,
    async read() {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return object.Body!.transformToByteArray();
    },
  }));
}

/** Where the records go: a collector, or the local log. */
interface Delivery {
  send(bytes: Uint8Array, key: string): Promise<{ appended: number; duplicates: number; size: number | undefined }>;
  /** The log's size as known before anything is sent: null for a collector (not asked). */
  size(): number | null;
  close(): Promise<void>;
}

const gzipped = (bytes: Uint8Array) => bytes[0] === 0x1f && bytes[1] === 0x8b;

function remoteDelivery(io: Io, server: string): Delivery {
  return {
    async send(bytes) {
      const answer = await collectorRequest(io, server, '/v1/sources/cloudtrail', {
        method: 'POST',
        body: bytes,
        contentType: 'application/json',
        ...(gzipped(bytes) && { contentEncoding: 'gzip' }),
      });
      if (answer.status !== 201) throw answerError(answer);
      const entries = (answer.body.entries ?? []) as Array<{ duplicate?: boolean }>;
      const duplicates = entries.filter((e) => e.duplicate).length;
      return { appended: entries.length - duplicates, duplicates, size: answer.body.size as number };
    },
    size: () => null,
    close: async () => undefined,
  };
}

async function localDelivery(dir: string): Promise<Delivery> {
  const store = await openStore(dir);
  const tickets = ticketMatchers(DEFAULT_TICKET_PATTERNS);
  const { submitter } = localActor();
  return {
    async send(bytes, key) {
      let text: string;
      try {
        text = Buffer.from(gzipped(bytes) ? gunzipSync(bytes) : bytes).toString('utf8');
      } catch (err) {
        throw new UsageError(`${key}: a damaged gzip file: ${(err as Error).message}`);
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (err) {
        // JSON.parse quotes the text it choked on, newlines and all: escaped, the message stays one line.
        throw new UsageError(`${key}: not JSON: ${oneLine((err as Error).message)}`);
      }
      const events = cloudtrailEvents(body, { maxObjectBytes: 8192, tickets });
      if (events.length === 0) return { appended: 0, duplicates: 0, size: store.log.size() };
      const result = await store.log.append(events, { submitter });
      const duplicates = result.entries.filter((e) => e.duplicate).length;
      return { appended: result.entries.length - duplicates, duplicates, size: result.size };
    },
    size: () => store.log.size(),
    close: () => store.log.close(),
  };
}

/** `$XDG_STATE_HOME/stele`, else `~/.local/state/stele`. */
function stateHome(io: Io): string {
  return join(io.env.XDG_STATE_HOME || join(io.env.HOME || homedir(), '.local', 'state'), 'stele');
}

interface State {
  version: 1;
  /** Per source (location -> destination): the keys of the files read. */
  sources: Record<string, string[]>;
}

function readState(path: string): State {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as State;
    if (parsed.version === 1 && parsed.sources && typeof parsed.sources === 'object') return parsed;
  } catch {
    // none yet: nothing was read
  }
  return { version: 1, sources: {} };
}

function writeState(path: string, state: State): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
