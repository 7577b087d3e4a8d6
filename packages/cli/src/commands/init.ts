import { initStore } from '@stele/store';
import { EXIT, type Io } from '../io.js';
import { DIR_OPTION, UsageError, dataDir, parse } from '../usage.js';

/** `stele init [--dir D] [--origin ORIGIN] [--json]`: create a log and its signer key; print the verifier key. */
export async function init(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { ...DIR_OPTION, origin: { type: 'string' }, json: { type: 'boolean' } });
  const dir = dataDir(io, values.dir);
  if (values.origin !== undefined && !/^[\x21-\x7e]+$/.test(values.origin.replaceAll('+', ' '))) {
    throw new UsageError(`--origin must be printable ASCII without spaces or '+', not ${JSON.stringify(values.origin)}`);
  }
  const { origin, verifierKey } = await initStore(dir, values.origin);
  if (values.json) io.stdout(JSON.stringify({ dir, origin, verifierKey }) + '\n');
  else io.stdout(verifierKey + '\n');
  io.stderr(`stele init: created log ${origin} in ${dir} (signer key: ${dir}/signer.key, mode 0600)\n`);
  return EXIT.ok;
}
