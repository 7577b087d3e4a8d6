import { ArchiveError, objectUrl, openArchive, verifyArchive } from '@stele/archive';
import type { NoteVerifier } from '@stele/log';
import { nodeHasher } from '@stele/store';
import { reportArchiveError, s3Settings } from '../archiveFlags.js';
import { EXIT, type Io } from '../io.js';
import { progressBar } from '../progress.js';
import { plural } from '../text.js';
import { integer } from '../usage.js';

/** What `stele verify --archive` was given. */
export interface VerifyArchivedOptions {
  archive: string;
  verifier: NoteVerifier;
  size?: string;
  json?: boolean;
  endpoint?: string;
  region?: string;
  'path-style'?: boolean;
}

/**
 * `stele verify --archive s3://bucket/prefix|file:///path --key VKEY [--size N]
 * [--endpoint URL] [--region R] [--path-style] [--json]`: verify an archive on
 * its own (signature, every tile, every entry, every archived checkpoint),
 * with read access only. Exit 0 when all holds, 1 on the first failure.
 */
export async function verifyArchived(io: Io, options: VerifyArchivedOptions): Promise<number> {
  const size = integer('size', options.size);
  let reader;
  try {
    reader = openArchive(options.archive, s3Settings(io, options));
    const bar = io.isTTY && !options.json ? progressBar(io, 'verifying') : undefined;
    const result = await verifyArchive({ reader, verifier: options.verifier, hasher: nodeHasher, ...(size === undefined ? {} : { size }), onProgress: bar?.update });
    bar?.done();
    if (options.json) io.stdout(JSON.stringify({ archive: reader.url, ...result }) + '\n');
    else if (result.ok) {
      const counts = `${plural(result.size, 'entry', 'entries')}, ${plural(result.checkpoints, 'checkpoint')}, ${plural(result.objects, 'object')}`;
      io.stdout(`ok: ${reader.url}: ${counts} verified; root ${result.root}${result.pending ? ` (${plural(result.pending, 'file')} of a later tree not yet covered by a checkpoint)` : ''}\n`);
    } else io.stdout(`FAILED: ${result.path ? objectUrl(reader.url, result.path) : reader.url}: ${result.code}: ${result.message}\n`);
    return result.ok ? EXIT.ok : EXIT.failed;
  } catch (err) {
    if (err instanceof ArchiveError) return reportArchiveError(io, 'verify', err, options.json);
    throw err;
  } finally {
    await reader?.close();
  }
}
