import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { createHasher, createVerifier, LogError, parseEvidence, verifyEvidence } from '@stele/log';
import { EXIT, type Io } from '../io.js';
import { plural } from '../text.js';
import { UsageError, parse } from '../usage.js';

/** The offline verifier page built by `npm run build` (packages/web/dist), beside this package's dist/commands/. */
const PAGE = fileURLToPath(new URL('../../../web/dist/verify-bundle.html', import.meta.url));

const hasher = createHasher((data) => new Uint8Array(createHash('sha256').update(data).digest()));

/**
 * `stele verify-bundle FILE [--key VKEY|FILE] [--json] [--html OUT]`: checks an
 * evidence bundle (docs/EVIDENCE.md) offline; `--html` also writes the
 * self-contained verifier page to OUT for an auditor without the CLI. Exit 0 when every event is proven, 1 when
 * anything fails (a signature, a consistency or inclusion proof, a record, the
 * bundle's shape, a key repeated in the text, no events at all), 2 when the
 * file cannot be read or is not JSON.
 */
export async function verifyBundle(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { key: { type: 'string' }, json: { type: 'boolean' }, html: { type: 'string' } }, 1);
  const file = positionals[0];
  if (file === undefined) throw new UsageError('verify-bundle needs FILE: an evidence bundle (GET /v1/evidence, or the console\'s export)');
  const text = read(resolve(io.cwd, file), 'FILE');
  let bundle: unknown;
  let refused: LogError | undefined; // JSON, but not what it appears: a failed check, reported below
  try {
    bundle = parseEvidence(text);
  } catch (err) {
    if (err instanceof LogError) refused = err;
    else throw new UsageError(`${file} is not JSON: ${(err as Error).message}`);
  }
  if (values.html !== undefined) {
    if (!existsSync(PAGE)) throw new UsageError(`--html: the verifier page ${PAGE} is not built (npm run build)`);
    copyFileSync(PAGE, resolve(io.cwd, values.html));
    if (!values.json) io.stderr(`wrote the offline verifier page to ${values.html}\n`);
  }
  let verifier;
  if (values.key !== undefined) {
    const path = resolve(io.cwd, values.key);
    verifier = await createVerifier(values.key.includes('+') && !existsSync(path) ? values.key : read(path, '--key').trim());
  }
  try {
    if (refused) throw refused;
    const result = await verifyEvidence(bundle, { hasher, ...(verifier && { verifier }) });
    if (values.json) io.stdout(JSON.stringify(result) + '\n');
    else {
      for (const e of result.events) if (!e.ok) io.stdout(`FAILED index ${e.index} (${e.id}): ${e.code}: ${e.message}\n`);
      const proven = result.events.filter((e) => e.ok).length;
      io.stdout(result.ok
        ? `ok: ${plural(proven, 'event')} proven in ${result.origin} at size ${result.sizes.join(' → ')}; root ${result.root}\n`
        : `FAILED: ${result.events.length - proven} of ${result.events.length} events not proven\n`);
      if (result.ok && verifier === undefined) io.stderr('note: checked against the key inside the bundle; pin the log\'s verifier key with --key to prove who signed it\n');
    }
    return result.ok ? EXIT.ok : EXIT.failed;
  } catch (err) {
    if (!(err instanceof LogError)) throw err;
    if (values.json) io.stdout(JSON.stringify({ ok: false, code: err.code, message: err.message }) + '\n');
    else io.stdout(`FAILED: ${err.code}: ${err.message}\n`);
    return EXIT.failed;
  }
}

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${what}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
