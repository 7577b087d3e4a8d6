import { toBase64 } from '@stele/log';
import { openStore } from '@stele/store';
import { EXIT, type Io } from '../io.js';
import { DIR_OPTION, UsageError, dataDir, integer, parse } from '../usage.js';

/**
 * `stele proof [--dir D] (--index N | --id ID) [--size S] [--json]`: an
 * RFC 6962 inclusion proof and the signed checkpoint it is against. S must be
 * the size of the latest checkpoint or of one in the history.
 */
export async function proof(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {
    ...DIR_OPTION,
    index: { type: 'string' },
    id: { type: 'string' },
    size: { type: 'string' },
    json: { type: 'boolean' },
  });
  if ((values.index === undefined) === (values.id === undefined)) throw new UsageError('give exactly one of --index N and --id ID');
  const store = await openStore(dataDir(io, values.dir), { mode: 'read' });
  try {
    const { log } = store;
    const entry = values.id !== undefined ? await log.entryById(values.id) : await log.entry(integer('index', values.index)!).catch(() => undefined);
    if (!entry) throw new UsageError(values.id !== undefined ? `no entry with id ${values.id}` : `no entry at index ${values.index} (size ${log.size()})`);
    const size = integer('size', values.size, 1) ?? log.size();
    const checkpoint = size === log.size() ? log.checkpoint() : (await log.checkpoints()).find((c) => c.size === size)?.note;
    if (checkpoint === undefined) throw new UsageError(`no signed checkpoint at size ${size}; use the latest (${log.size()}) or one from the history`);
    if (entry.index >= size) throw new UsageError(`entry ${entry.index} is not in the tree of size ${size}`);
    const hashes = await log.inclusionProof(entry.index, size);
    const out = {
      index: entry.index,
      id: entry.id,
      size,
      leafHash: toBase64(entry.leafHash),
      proof: hashes.map(toBase64),
      checkpoint,
      entry: entry.record,
    };
    if (values.json) io.stdout(JSON.stringify(out) + '\n');
    else {
      io.stdout(`entry ${out.index} (${out.id}) in the tree of size ${size}\nleaf hash ${out.leafHash}\nproof:\n`);
      io.stdout(out.proof.map((h) => `  ${h}\n`).join(''));
      io.stdout(`checkpoint:\n${checkpoint}`);
    }
    return EXIT.ok;
  } finally {
    await store.log.close();
  }
}
