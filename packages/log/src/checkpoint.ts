/**
 * C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the note text that commits a
 * log to its tree head.
 *
 * ```
 * <origin>
 * <tree size, decimal>
 * <base64 RFC 6962 root hash>
 * [extension lines]
 * ```
 */
import { fromBase64, toBase64 } from './bytes.js';
import { LogError } from './errors.js';

/** A checkpoint body: which log, how big, which root. */
export interface Checkpoint {
  /** The log's identity, e.g. `example.com/log`; non-empty, one line. */
  origin: string;
  /** The tree size (number of leaves), a safe integer. */
  size: number;
  /** The 32-byte RFC 6962 root hash of the tree at `size`. */
  root: Uint8Array;
  /** Opaque, non-empty extension lines (NOT RECOMMENDED by the spec; usually none). */
  extensions: string[];
}

/** Control characters a line may not hold (a note allows none but newline), and lone surrogates. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const BAD_LINE = /[\u0000-\u001f]|\p{Cs}/u;
const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

const malformed = (why: string): LogError => new LogError('ERR_CHECKPOINT_MALFORMED', why);

function checkLine(line: string, what: string): void {
  if (typeof line !== 'string' || line.length === 0 || BAD_LINE.test(line)) {
    throw malformed(`${what} is a non-empty line of valid Unicode without control characters`);
  }
}

/**
 * The checkpoint's note text: origin, size, base64 root and extension lines,
 * each followed by a newline.
 *
 * @param cp - the checkpoint
 * @returns the note text (sign it with `signNote`)
 * @throws LogError `ERR_CHECKPOINT_MALFORMED` if a field cannot be written as a valid checkpoint
 */
export function formatCheckpoint(cp: Checkpoint): string {
  checkLine(cp.origin, 'the origin');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw malformed('the size is a non-negative safe integer');
  if (!(cp.root instanceof Uint8Array) || cp.root.length !== 32) throw malformed('the root hash has 32 bytes');
  for (const ext of cp.extensions) checkLine(ext, 'an extension');
  return [cp.origin, String(cp.size), toBase64(cp.root), ...cp.extensions].map((line) => `${line}\n`).join('');
}

/**
 * Parses a checkpoint's note text strictly.
 *
 * Treat the result as untrusted until the note that carried it was opened with
 * a trusted key (`openNote`); parsing alone proves nothing.
 *
 * @param text - the note text (ends in a newline)
 * @returns the checkpoint
 * @throws LogError `ERR_CHECKPOINT_MALFORMED` unless the text has at least three
 *   lines ending in newlines, a non-empty origin, a decimal size without leading
 *   zeros (at most 2^53 - 1), a standard-base64 32-byte root, and non-empty extension lines
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string' || !text.endsWith('\n')) throw malformed('a checkpoint ends in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed('a checkpoint has an origin, a size and a root hash');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  checkLine(origin, 'the origin');
  if (!DECIMAL.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw malformed('the size is decimal without leading zeros, at most 2^53 - 1');
  }
  let root: Uint8Array;
  try {
    root = fromBase64(rootText);
  } catch {
    throw malformed('the root hash is not standard base64');
  }
  if (root.length !== 32) throw malformed('the root hash has 32 bytes');
  for (const ext of extensions) checkLine(ext, 'an extension');
  return { origin, size: Number(sizeText), root, extensions };
}
