import { expect, test } from 'vitest';
import { ArchiveError } from './errors.js';
import { parseArchiveUrl } from './location.js';

test('s3 locations: bucket and an optional prefix, normalised to end in a slash', () => {
  expect(parseArchiveUrl('s3://audit-archive')).toEqual({ kind: 's3', bucket: 'audit-archive', prefix: '', url: 's3://audit-archive/' });
  expect(parseArchiveUrl('s3://audit-archive/')).toMatchObject({ prefix: '' });
  expect(parseArchiveUrl('s3://audit-archive/prod/log1')).toEqual({ kind: 's3', bucket: 'audit-archive', prefix: 'prod/log1/', url: 's3://audit-archive/prod/log1/' });
  expect(parseArchiveUrl('s3://a.b-c/x/')).toMatchObject({ bucket: 'a.b-c', prefix: 'x/' });
});

test('file locations: an absolute directory', () => {
  expect(parseArchiveUrl('file:///mnt/worm/stele')).toEqual({ kind: 'file', path: '/mnt/worm/stele', url: 'file:///mnt/worm/stele' });
  expect(parseArchiveUrl('file:///mnt/worm/stele/')).toMatchObject({ path: '/mnt/worm/stele' });
});

test('anything else is refused with ERR_ARCHIVE_URL', () => {
  const bad = [
    '', 'bucket/prefix', 'http://bucket/x', 's3://', 's3://Upper', 's3://ab', 's3://-bucket', 's3://b..c/x', 's3://bucket//x',
    's3://bucket/../x', 's3://bucket/./x', 's3://bucket/a b', 'file://relative/path', 'file:relative', 's3://bucket/x//',
  ];
  for (const url of bad) {
    let code: string | undefined;
    try {
      parseArchiveUrl(url);
    } catch (err) {
      code = (err as ArchiveError).code;
    }
    expect(code, url).toBe('ERR_ARCHIVE_URL');
  }
});
