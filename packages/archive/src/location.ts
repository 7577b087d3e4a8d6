/**
 * Archive locations: `s3://bucket[/prefix]` and `file:///absolute/path`.
 * A location comes from a flag or a config file; it is checked strictly so
 * that a typo never writes somewhere unexpected.
 */
import { isAbsolute, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArchiveError } from './errors.js';

/** Where an archive lives. */
export type ArchiveLocation =
  | { kind: 's3'; bucket: string; /** Empty, or ends in `/`. */ prefix: string; url: string }
  | { kind: 'file'; /** An absolute directory. */ path: string; url: string };

/** S3 bucket names: 3 to 63 of lowercase letters, digits, dots and hyphens, starting and ending alphanumeric. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Prefix segments: printable, no `.` or `..` (keys are paths that other tools resolve). */
const SEGMENT = /^[A-Za-z0-9!_.*'()=+,;@-]+$/;

const bad = (why: string) => new ArchiveError('ERR_ARCHIVE_URL', why);

/**
 * Parses an archive location.
 *
 * @throws ArchiveError `ERR_ARCHIVE_URL` for anything but `s3://bucket[/prefix]`
 *   (a valid bucket name, prefix segments without `.`, `..` or empty ones) or
 *   `file:///absolute/path`
 */
export function parseArchiveUrl(url: string): ArchiveLocation {
  if (typeof url !== 'string' || url.length === 0) throw bad('an archive location is s3://bucket/prefix or file:///path');
  if (url.startsWith('s3://')) {
    const [bucket = '', ...segments] = url.slice('s3://'.length).split('/');
    if (!BUCKET.test(bucket) || bucket.includes('..')) throw bad(`${JSON.stringify(bucket)} is not an S3 bucket name`);
    if (segments.length > 0 && segments[segments.length - 1] === '') segments.pop(); // one trailing slash
    for (const s of segments) {
      if (!SEGMENT.test(s) || s === '.' || s === '..') throw bad(`the prefix of ${url} has an invalid segment ${JSON.stringify(s)}`);
    }
    const prefix = segments.length > 0 ? segments.join('/') + '/' : '';
    return { kind: 's3', bucket, prefix, url: `s3://${bucket}/${prefix}` };
  }
  if (url.startsWith('file://')) {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch {
      throw bad(`${url} is not a file:///absolute/path URL`);
    }
    if (!isAbsolute(path)) throw bad(`${url} is not an absolute path`);
    path = normalize(path).replace(/(.)\/+$/, '$1');
    return { kind: 'file', path, url: `file://${path}` };
  }
  throw bad(`${JSON.stringify(url)}: an archive location is s3://bucket/prefix or file:///path`);
}
