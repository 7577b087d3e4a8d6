/**
 * What `stele archive` and `stele verify --archive` share: the flags that
 * reach an S3-compatible store, and how an archive error leaves the command.
 */
import { ArchiveError, isTamperEvidence, type S3Settings } from '@stele/archive';
import { EXIT, type Io } from './io.js';

/** Flags of the store: endpoint, region, addressing. */
export const S3_OPTIONS = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'path-style': { type: 'boolean' },
} as const;

/**
 * The S3 settings from flags, else `STELE_ARCHIVE_ENDPOINT` and
 * `STELE_ARCHIVE_REGION`, else the AWS SDK's own (AWS_REGION, profiles).
 */
export function s3Settings(io: Io, values: { endpoint?: string; region?: string; 'path-style'?: boolean }): S3Settings {
  const endpoint = values.endpoint ?? (io.env.STELE_ARCHIVE_ENDPOINT || undefined);
  const region = values.region ?? (io.env.STELE_ARCHIVE_REGION || io.env.AWS_REGION || io.env.AWS_DEFAULT_REGION || undefined);
  return { endpoint, region, pathStyle: values['path-style'] || endpoint !== undefined };
}

/**
 * Reports an archive error and returns the exit code: 1 when the archive and
 * the log disagree (evidence of tampering or a rollback), else 2. With
 * `--json`, stdout gets `{"error":{"code","message"}}`.
 */
export function reportArchiveError(io: Io, command: string, err: ArchiveError, json: boolean | undefined): number {
  if (json) io.stdout(JSON.stringify({ error: { code: err.code, message: err.message } }) + '\n');
  io.stderr(`stele ${command}: ${err.code}: ${err.message}\n`);
  return isTamperEvidence(err.code) ? EXIT.failed : EXIT.usage;
}
