import { readVerifierKey } from '@stele/store';
import { EXIT, type Io } from '../io.js';
import { DIR_OPTION, dataDir, parse } from '../usage.js';

/** `stele key [--dir D]`: print the log's verifier key. */
export async function key(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { ...DIR_OPTION, json: { type: 'boolean' } });
  const verifierKey = readVerifierKey(dataDir(io, values.dir));
  io.stdout(values.json ? JSON.stringify({ verifierKey }) + '\n' : verifierKey + '\n');
  return EXIT.ok;
}
