/**
 * Where the tests find the conformance vectors (Node only, never built):
 * `STELE_VECTORS` if set, else `../shared/vectors` beside the checkout, as
 * CI lays them out. Missing vectors are an error that says where they were
 * looked for, not a test skipped: conformance is what these tests are for.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory of one kind of vectors, with a trailing slash. */
export function vectorsDir(kind: 'tlog' | 'merkle'): string {
  const given = process.env.STELE_VECTORS;
  const root = given ? resolve(given) : fileURLToPath(new URL('../../../../shared/vectors/', import.meta.url));
  const dir = join(root, kind);
  if (!existsSync(dir)) {
    throw new Error(`no conformance vectors at ${dir}: they live beside the checkout in ../shared/vectors (README, "Tests"); set STELE_VECTORS to their directory`);
  }
  return `${dir}/`;
}
