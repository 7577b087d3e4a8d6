/**
 * Opening an archive by its location: `s3://` through the AWS SDK, `file://`
 * as a directory.
 */
import { openFileTarget } from './fileTarget.js';
import { parseArchiveUrl } from './location.js';
import { openS3Target } from './s3Target.js';
import type { ArchiveTarget } from './target.js';

/** How to reach an S3-compatible store; ignored for `file://`. */
export interface S3Settings {
  /** An S3-compatible endpoint (MinIO, Ceph RGW); AWS when absent. */
  endpoint?: string;
  region?: string;
  /** Path-style addressing; on by default when an endpoint is given. */
  pathStyle?: boolean;
}

/**
 * Opens the archive at a location. Nothing is read or written yet.
 *
 * @throws ArchiveError `ERR_ARCHIVE_URL` when the location does not parse
 */
export function openArchive(url: string, settings: S3Settings = {}): ArchiveTarget {
  const location = parseArchiveUrl(url);
  if (location.kind === 'file') return openFileTarget({ path: location.path });
  return openS3Target({
    bucket: location.bucket,
    prefix: location.prefix,
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.pathStyle ?? settings.endpoint !== undefined,
  });
}
