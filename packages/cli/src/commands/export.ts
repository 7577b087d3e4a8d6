import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { bundlesForSize, encodeBundle, encodeTile, entriesPath, tilePath, tilesForSize, TILE_WIDTH } from '@stele/log';
import { openStore } from '@stele/store';
import { EXIT, type Io } from '../io.js';
import { DIR_OPTION, UsageError, dataDir, parse } from '../usage.js';

/**
 * `stele export [--dir D] --out DIR [--json]`: write the log as static C2SP
 * tlog-tiles files. Every tile path names immutable content, so a re-run
 * writes only what is new; the checkpoint is written last, atomically.
 */
export async function exportTiles(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { ...DIR_OPTION, out: { type: 'string' }, json: { type: 'boolean' } });
  if (!values.out) throw new UsageError('--out DIR is required');
  const out = resolve(io.cwd, values.out);
  const store = await openStore(dataDir(io, values.dir), { mode: 'read' });
  let written = 0;
  let skipped = 0;
  try {
    const { log } = store;
    const size = log.size();
    const checkpoint = log.checkpoint();
    if (checkpoint === undefined) throw new UsageError('the log is empty: nothing to export');
    const put = async (path: string, bytes: () => Promise<Uint8Array>) => {
      const file = join(out, path);
      if (existsSync(file)) {
        skipped++;
        return;
      }
      writeAtomically(file, await bytes());
      written++;
    };
    for (const tile of tilesForSize(size)) {
      const start = tile.index * TILE_WIDTH;
      await put(tilePath(tile), async () => encodeTile(await log.driver.readHashes(tile.level * 8, start, start + tile.width)));
    }
    for (const bundle of bundlesForSize(size)) {
      const start = bundle.index * TILE_WIDTH;
      await put(entriesPath(bundle.index, bundle.width), async () => encodeBundle((await log.driver.readEntries(start, start + bundle.width)).map((e) => e.bytes)));
    }
    writeAtomically(join(out, 'checkpoint'), new TextEncoder().encode(checkpoint));
    written++;
    if (values.json) io.stdout(JSON.stringify({ out, size, written, skipped }) + '\n');
    else io.stdout(`exported ${size} entries to ${out}: ${written} ${written === 1 ? 'file' : 'files'} written, ${skipped} already there\n`);
    return EXIT.ok;
  } finally {
    await store.log.close();
  }
}

function writeAtomically(file: string, bytes: Uint8Array): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined) throw err;
    throw new UsageError(`--out: cannot write ${file}: ${code}`);
  }
}
