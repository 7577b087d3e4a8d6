import { hash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHasher } from './hasher.js';
import { createVerifier } from './note.js';
import { verifyTiledLog, type TileFetcher } from './tiledLog.js';
import { vectorsDir } from './testVectors.js';

const hasher = createHasher((d) => new Uint8Array(hash('sha256', d, 'buffer') as unknown as Buffer));
const vectors = vectorsDir('tlog');

/** Serves a vector log's files, optionally altered. */
function fetcher(dir: string, alter?: (path: string, bytes: Uint8Array) => Uint8Array | undefined): TileFetcher {
  return async (path) => {
    const file = join(dir, path);
    if (!existsSync(file)) return undefined;
    const bytes = new Uint8Array(readFileSync(file));
    return alter ? alter(path, bytes) : bytes;
  };
}

const flip = (bytes: Uint8Array, at: number) => {
  const out = bytes.slice();
  out[at]! ^= 1;
  return out;
};

describe('verifyTiledLog over the Go-written vector logs', () => {
  for (const size of [1, 255, 256, 257, 1000]) {
    const dir = join(vectors, `size-${size}`);
    it(`verifies size-${size} and sees every entry`, async () => {
      const verifier = await createVerifier(readFileSync(join(dir, 'vkey'), 'utf8').trim());
      const seen: number[] = [];
      const result = await verifyTiledLog({ fetch: fetcher(dir), verifier, hasher, onEntry: (i, e) => {
        seen.push(i);
        expect(new TextDecoder().decode(e)).toBe(`{"i":${i},"action":"file.save"}`);
      } });
      expect(result.size).toBe(size);
      expect(result.origin).toBe(`example.com/vectors/${size}`);
      expect(seen.length).toBe(size);
    });
  }

  it('rejects an altered entry, an altered hash tile, a missing file and a forged checkpoint', async () => {
    const dir = join(vectors, 'size-1000');
    const verifier = await createVerifier(readFileSync(join(dir, 'vkey'), 'utf8').trim());
    const run = (alter: (path: string, b: Uint8Array) => Uint8Array | undefined) => verifyTiledLog({ fetch: fetcher(dir, alter), verifier, hasher });
    await expect(run((p, b) => (p === 'tile/entries/001' ? flip(b, 10) : b))).rejects.toMatchObject({
      code: 'ERR_ROOT_MISMATCH',
      message: expect.stringMatching(/; the first that differ from the log's hash tiles: entry 256 \(tile\/entries\/001\) does not give hash 0 of tile\/0\/001$/),
    });
    await expect(run((p, b) => (p === 'tile/0/002' ? flip(b, 40) : b))).rejects.toMatchObject({ code: 'ERR_ROOT_MISMATCH' });
    await expect(run((p, b) => (p === 'tile/1/000.p/3' ? flip(b, 0) : b))).rejects.toMatchObject({ code: 'ERR_ROOT_MISMATCH' });
    await expect(run((p, b) => (p === 'tile/0/001' ? undefined : b))).rejects.toMatchObject({ code: 'ERR_TILE_MALFORMED' });
    await expect(run((p, b) => (p === 'checkpoint' ? new TextEncoder().encode(new TextDecoder().decode(b).replace('\n1000\n', '\n999\n')) : b))).rejects.toMatchObject({
      code: 'ERR_NOTE_UNVERIFIED',
      message: expect.stringMatching(/^checkpoint: /),
    });
    // A bundle cut short is named.
    await expect(run((p, b) => (p === 'tile/entries/002' ? b.subarray(0, b.length - 1) : b))).rejects.toMatchObject({ message: expect.stringMatching(/^tile\/entries\/002: /) });
  });

  it('refuses a log signed by another key', async () => {
    const other = await createVerifier(readFileSync(join(vectors, 'size-257', 'vkey'), 'utf8').trim());
    await expect(verifyTiledLog({ fetch: fetcher(join(vectors, 'size-256')), verifier: other, hasher })).rejects.toMatchObject({ code: 'ERR_NOTE_UNVERIFIED' });
  });
});
