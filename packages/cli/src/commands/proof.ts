import { equalBytes, LogError, openNote, parseCheckpoint, toBase64, verifyInclusion, type Hasher, type NoteVerifier } from '@stele/log';
import { openStore, StoreError, type LogEntry } from '@stele/store';
import { EXIT, type Io } from '../io.js';
import { DIR_OPTION, UsageError, dataDir, integer, parse } from '../usage.js';

/**
 * `stele proof [--dir D] (--index N | --id ID) [--size S] [--json]`: an
 * RFC 6962 inclusion proof and the signed checkpoint it is against. S must be
 * the size of the latest checkpoint or of one in the history. The proof is
 * checked before it is printed: a store edited behind the log's back gets
 * nothing on stdout and exit 1.
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
  let store;
  try {
    store = await openStore(dataDir(io, values.dir), { mode: 'read' });
  } catch (err) {
    // The stored tree contradicts the signed checkpoint: a failed check, not bad usage.
    if (!(err instanceof StoreError) || err.code !== 'ERR_STORE_CORRUPT') throw err;
    io.stderr(`stele proof: ${err.message}\n`);
    return EXIT.failed;
  }
  try {
    const { log } = store;
    const entry = values.id !== undefined ? await log.entryById(values.id) : await log.entry(integer('index', values.index)!).catch(() => undefined);
    if (!entry) throw new UsageError(values.id !== undefined ? `no entry with id ${values.id}` : `no entry at index ${values.index} (size ${log.size()})`);
    const size = integer('size', values.size, 1) ?? log.size();
    const checkpoint = size === log.size() ? log.checkpoint() : (await log.checkpoints()).find((c) => c.size === size)?.note;
    if (checkpoint === undefined) throw new UsageError(`no signed checkpoint at size ${size}; use the latest (${log.size()}) or one from the history`);
    if (entry.index >= size) throw new UsageError(`entry ${entry.index} is not in the tree of size ${size}`);
    const hashes = await log.inclusionProof(entry.index, size);
    const problem = await check(entry, hashes, { checkpoint, size, hasher: log.hasher, verifier: store.verifier, origin: log.origin });
    if (problem !== undefined) {
      io.stderr(`stele proof: entry ${entry.index} does not match the signed tree (${problem}): run stele verify\n`);
      return EXIT.failed;
    }
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

interface Against {
  checkpoint: string;
  size: number;
  hasher: Hasher;
  verifier: NoteVerifier;
  origin: string;
}

/**
 * What an auditor would check of the printed proof, in the codes of `stele
 * verify`: the leaf hash recomputed from the entry's bytes, the record naming
 * its row's index and id, the checkpoint's signature with the log's key, and
 * the proof leading to its root. The stored rows are untrusted here.
 *
 * @returns the code of the first failure, or undefined when all holds
 */
async function check(entry: LogEntry, hashes: Uint8Array[], against: Against): Promise<string | undefined> {
  const leaf = against.hasher.hashLeaf(entry.bytes);
  if (!equalBytes(leaf, entry.leafHash)) return 'ERR_LEAF_HASH_MISMATCH';
  if (entry.record.index !== entry.index) return 'ERR_ENTRY_INDEX_MISMATCH';
  // --id finds the row by its id column: the record it prints must be the one of that id.
  if (entry.record.id !== entry.id) return 'ERR_ENTRY_ID_MISMATCH';
  let root: Uint8Array;
  try {
    const cp = parseCheckpoint((await openNote(against.checkpoint, [against.verifier])).text);
    if (cp.origin !== against.origin || cp.size !== against.size) return 'ERR_CHECKPOINT_MALFORMED';
    root = cp.root;
  } catch (err) {
    if (!(err instanceof LogError)) throw err;
    return err.code === 'ERR_NOTE_UNVERIFIED' ? 'ERR_CHECKPOINT_SIGNATURE' : 'ERR_CHECKPOINT_MALFORMED';
  }
  try {
    verifyInclusion(against.hasher, entry.index, against.size, leaf, hashes, root);
  } catch (err) {
    if (!(err instanceof LogError)) throw err;
    return 'ERR_CHECKPOINT_ROOT_MISMATCH';
  }
  return undefined;
}
