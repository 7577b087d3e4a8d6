/**
 * Go's reference code verifies a Stele log: `stele export` writes the log
 * as C2SP tlog-tiles, and tools/go-verify, built from
 * golang.org/x/mod/sumdb/tlog and note alone, checks the checkpoint's
 * signature, every entry bundle and hash tile byte for byte, inclusion
 * proofs, and consistency with an earlier checkpoint. Its findings on a
 * tampered export, a foreign key, a rolled-back or forked checkpoint are
 * asserted too, as are its exit status 2 and one line on stderr when it is
 * called wrongly, and it is first run on the Go-written vectors, so that a
 * broken tool cannot pass a broken log.
 *
 * Needs Go and golang.org/x/mod in GOPATH form, as Debian packages them
 * (apt-get install golang-go golang-golang-x-mod-dev; .ci/run does);
 * skipped with a warning without them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CompactRange, createSigner, formatCheckpoint, parseCheckpoint, parseNote, signNote } from '@stele/log';
import { nodeHasher } from '@stele/store';
import { vectorsDir } from '../packages/log/src/testVectors.js';
import { ROOT, removeTempDirs, requireBuild, seedLog, stele, steleJson, tempDir } from './helpers.js';

const GOPATH = '/usr/share/gocode';
const hasGo = spawnSync('go', ['version']).status === 0 && existsSync(join(GOPATH, 'src/golang.org/x/mod/sumdb/tlog'));
if (!hasGo) console.warn('test/go-verify.test.ts: skipped: go or golang.org/x/mod is absent (apt-get install golang-go golang-golang-x-mod-dev)');

let tool: string;

beforeAll(() => {
  requireBuild();
  if (!hasGo) return;
  const dir = tempDir('go-verify-build');
  tool = join(dir, 'go-verify');
  execFileSync('go', ['build', '-o', tool, './tools/go-verify'], {
    cwd: ROOT,
    env: { ...process.env, GO111MODULE: 'off', GOPATH, GOCACHE: join(dir, 'cache'), GOFLAGS: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
});
afterAll(removeTempDirs);

/** Runs the Go verifier. */
function goVerify(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(tool, args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A new log of `count` seeded events, exported; its directory, export and verifier key. */
async function exportedLog(count: number, origin = 'example.com/go-verify'): Promise<{ dir: string; out: string; vkey: string }> {
  const dir = join(tempDir('go-verify-log'), 'log');
  const { verifierKey } = await seedLog(dir, count, { origin, batch: 1000 });
  const out = join(tempDir('go-verify-out'), 'export');
  const exported = await stele(['export', '--dir', dir, '--out', out]);
  expect(exported.code, exported.stderr).toBe(0);
  return { dir, out, vkey: verifierKey };
}

/** A copy of an export with one byte of a file flipped. */
function flipped(out: string, file: string, at: number): string {
  const copy = join(tempDir('go-verify-tampered'), 'export');
  cpSync(out, copy, { recursive: true });
  const bytes = readFileSync(join(copy, file));
  bytes[at] ^= 0x01;
  writeFileSync(join(copy, file), bytes);
  return copy;
}

/** SHA-256 of the parts, one after the other. */
function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest();
}

/**
 * A copy of an export with one byte of an entry changed, and the hashes over
 * it rewritten to match in the given hash tiles, level 0 first (each but the
 * last full): its RFC 6962 leaf hash, SHA-256 of 0x00 and the entry, then
 * the root of each tile in the tile above, as a forger who cannot sign would.
 * The tiles above them, and the checkpoint, are left as they were.
 */
function rewritten(out: string, entry: number, bundle: string, tiles: string[]): string {
  const copy = join(tempDir('go-verify-rewritten'), 'export');
  cpSync(out, copy, { recursive: true });
  const data = readFileSync(join(copy, bundle));
  let at = 0;
  for (let i = 0; i < entry % 256; i++) at += 2 + data.readUInt16BE(at);
  const length = data.readUInt16BE(at);
  data[at + 2] ^= 0x01;
  writeFileSync(join(copy, bundle), data);
  let hash = sha256(Buffer.from([0x00]), data.subarray(at + 2, at + 2 + length));
  tiles.forEach((file, level) => {
    const tile = readFileSync(join(copy, file));
    hash.copy(tile, (Math.floor(entry / 256 ** level) % 256) * 32);
    writeFileSync(join(copy, file), tile);
    // The tile's root: its 256 hashes, hashed in pairs (0x01, left, right) eight times.
    let row = Array.from({ length: tile.length / 32 }, (_, k) => tile.subarray(k * 32, k * 32 + 32));
    while (row.length > 1) row = Array.from({ length: row.length / 2 }, (_, k) => sha256(Buffer.from([0x01]), row[2 * k], row[2 * k + 1]));
    hash = row[0];
  });
  return copy;
}

describe.skipIf(!hasGo)("Go's golang.org/x/mod/sumdb verifies a Stele export", () => {
  test('the tool accepts every Go-written reference log and names its size and root', () => {
    const vectors = vectorsDir('tlog');
    const sizes = readdirSync(vectors);
    expect(sizes.length).toBeGreaterThan(0);
    for (const name of sizes) {
      const dir = join(vectors, name);
      const cp = parseCheckpoint(parseNote(readFileSync(join(dir, 'checkpoint'), 'utf8')).text);
      const r = goVerify(dir, join(dir, 'vkey'));
      expect({ name, code: r.code }).toEqual({ name, code: 0 });
      expect(r.stdout).toContain(`${cp.size === 1 ? '1 entry' : `${cp.size} entries`}, root ${Buffer.from(cp.root).toString('base64')}`);
    }
  });

  test('a log of 66,000 entries (three tile levels), then its extension, consistent with the first checkpoint', async () => {
    const { dir, out, vkey } = await exportedLog(66_000);
    const first = goVerify(out, vkey);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const own = await steleJson<{ ok: boolean; size: number; root: string }>(['verify', '--dir', dir, '--json']);
    expect(first.stdout).toContain(`example.com/go-verify: 66000 entries, root ${own.json.root}`);
    expect(existsSync(join(out, 'tile/2/000.p/1'))).toBe(true);

    // Entry 1000 changed with its hashes in the level-0 and level-1 tiles: the level-2 tile disagrees, and the entries it covers are named.
    const forged = goVerify(rewritten(out, 1000, 'tile/entries/003', ['tile/0/003', 'tile/1/000']), vkey);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toBe(
      "FAILED: entries 0 to 65535 (in tile/entries/000 to tile/entries/255): their hash is not the one tile/2/000.p/1 holds (hash 0), and the entries do not give the checkpoint's root\n",
    );

    const saved = join(tempDir('go-verify-saved'), 'checkpoint');
    cpSync(join(out, 'checkpoint'), saved);
    await seedLog(dir, 700, { from: 66_000 });
    expect((await stele(['export', '--dir', dir, '--out', out])).code).toBe(0);
    const second = goVerify('-old', saved, out, vkey);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toMatch(/: 66700 entries, .*; consistent with the checkpoint at size 66000\n$/);

    // Rolled back: the export is the old one, the checkpoint kept is the newer.
    const newer = join(tempDir('go-verify-newer'), 'checkpoint');
    cpSync(join(out, 'checkpoint'), newer);
    const rolledBack = join(tempDir('go-verify-rolled'), 'export');
    cpSync(out, rolledBack, { recursive: true });
    cpSync(saved, join(rolledBack, 'checkpoint'));
    const rollback = goVerify('-old', newer, rolledBack, vkey);
    expect(rollback.code).toBe(1);
    expect(rollback.stdout).toMatch(/^FAILED: old checkpoint .*: size 66700 is larger than this log's 66000/);
  });

  describe('on a log of 700 entries', () => {
    let log: { dir: string; out: string; vkey: string };
    beforeAll(async () => {
      log = await exportedLog(700);
    });

    test('it verifies, and a byte changed in an entry bundle names that entry', () => {
      expect(goVerify(log.out, log.vkey).code).toBe(0);
      // Entry 256 is the first of bundle 1; its bytes start after its two-byte length.
      const r = goVerify(flipped(log.out, 'tile/entries/001', 10), log.vkey);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("FAILED: entry 256 (in tile/entries/001): its leaf hash is not the one tile/0/001 holds, and the entries do not give the checkpoint's root\n");
    });

    test("an entry changed with its leaf hash in the level-0 tile names the entries the level-1 tile's hash covers", () => {
      // Entry 300 is the 45th of bundle 1, whose level-1 hash is hash 1 of tile/1/000.p/2.
      const r = goVerify(rewritten(log.out, 300, 'tile/entries/001', ['tile/0/001']), log.vkey);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe(
        "FAILED: entries 256 to 511 (in tile/entries/001): their hash is not the one tile/1/000.p/2 holds (hash 1), and the entries do not give the checkpoint's root\n",
      );
    });

    test('a byte changed in a hash tile names the tile and the hash', () => {
      const r = goVerify(flipped(log.out, 'tile/0/002.p/188', 32 * 5 + 3), log.vkey);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('FAILED: hash tile tile/0/002.p/188: hash 5 is not the one the entries give\n');
    });

    test("another log's key, and a checkpoint line changed, fail the signature", async () => {
      const other = await exportedLog(1, 'example.com/go-verify');
      const foreign = goVerify(log.out, other.vkey);
      expect(foreign.code).toBe(1);
      expect(foreign.stdout).toMatch(/^FAILED: checkpoint: signature: /);
      const changed = join(tempDir('go-verify-changed'), 'export');
      cpSync(log.out, changed, { recursive: true });
      const note = readFileSync(join(changed, 'checkpoint'), 'utf8');
      writeFileSync(join(changed, 'checkpoint'), note.replace('\n700\n', '\n699\n'));
      const r = goVerify(changed, log.vkey);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^FAILED: checkpoint: signature: /);
    });

    test('an earlier checkpoint signed by the same key over other entries (a fork), smaller or the same size, fails consistency', async () => {
      // The log's own signer signs trees of 300 and of 700 entries that are not this log's.
      const signer = await createSigner(readFileSync(join(log.dir, 'signer.key'), 'utf8').trim());
      for (const size of [300, 700]) {
        const range = CompactRange.empty(nodeHasher);
        for (let i = 0; i < size; i++) range.append(nodeHasher.hashLeaf(new TextEncoder().encode(`{"forked":${i}}`)));
        const fork = join(tempDir('go-verify-fork'), 'checkpoint');
        writeFileSync(fork, await signNote(formatCheckpoint({ origin: 'example.com/go-verify', size, root: range.root(), extensions: [] }), signer));
        const r = goVerify('-old', fork, log.out, log.vkey);
        expect({ size, code: r.code }).toEqual({ size, code: 1 });
        expect(r.stdout).toBe(
          `FAILED: consistency with ${fork} (size ${size}): this log is not an extension of it (a fork, or history rewritten): invalid transparency proof\n`,
        );
      }
    });

    test("the empty log's checkpoint is one every log extends; a size-0 checkpoint with another root is refused", async () => {
      const signer = await createSigner(readFileSync(join(log.dir, 'signer.key'), 'utf8').trim());
      const saved = async (root: Uint8Array) => {
        const file = join(tempDir('go-verify-empty'), 'checkpoint');
        writeFileSync(file, await signNote(formatCheckpoint({ origin: 'example.com/go-verify', size: 0, root, extensions: [] }), signer));
        return file;
      };
      const empty = goVerify('-old', await saved(CompactRange.empty(nodeHasher).root()), log.out, log.vkey);
      expect({ code: empty.code, tail: empty.stdout.split('; ').pop() }).toEqual({ code: 0, tail: 'consistent with the checkpoint at size 0\n' });
      const other = goVerify('-old', await saved(new Uint8Array(32).fill(7)), log.out, log.vkey);
      expect(other.code).toBe(1);
      expect(other.stdout).toMatch(/^FAILED: old checkpoint .*: size 0, but its root .* is not the empty tree's\n$/);
    });

    test('a missing tile or bundle is named; wrong arguments exit 2', () => {
      const copy = join(tempDir('go-verify-missing'), 'export');
      cpSync(log.out, copy, { recursive: true });
      writeFileSync(join(copy, 'tile/1/000.p/2'), Buffer.alloc(0));
      const short = goVerify(copy, log.vkey);
      expect(short.code).toBe(1);
      expect(short.stdout).toBe('FAILED: hash tile tile/1/000.p/2: hash 0 is not the one the entries give\n');
      expect(goVerify(log.out).code).toBe(2);
      const badKey = goVerify(log.out, join(log.out, 'no-such-key'));
      expect(badKey.code).toBe(2);
      expect(badKey.stderr).toMatch(/^go-verify: VKEY .* is neither a verifier key/);
    });

    test('a DIR that is missing or holds no checkpoint, and an -old it cannot read, exit 2 with one line on stderr naming it', () => {
      const missing = join(tempDir('go-verify-nodir'), 'no-such-export');
      const empty = join(tempDir('go-verify-empty'), 'export');
      mkdirSync(empty);
      const noOld = join(tempDir('go-verify-noold'), 'no-such-checkpoint');
      const dirOld = tempDir('go-verify-dirold');
      const cases: [string[], string][] = [
        [[missing, log.vkey], `go-verify: DIR ${missing} does not exist\n`],
        [[empty, log.vkey], `go-verify: DIR ${empty} holds no checkpoint file (not an export?)\n`],
        [['-old', noOld, log.out, log.vkey], `go-verify: -old ${noOld}: no such file or directory\n`],
        [['-old', dirOld, log.out, log.vkey], `go-verify: -old ${dirOld}: is a directory\n`],
      ];
      for (const [args, stderr] of cases) {
        const r = goVerify(...args);
        expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, code: 2, stdout: '', stderr });
      }
    });
  });
});
