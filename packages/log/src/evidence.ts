/**
 * Evidence bundles (docs/EVIDENCE.md): the events a search found, each with
 * its inclusion proof against one of the bundle's signed checkpoints, and
 * consistency proofs linking consecutive checkpoints. Verified offline with
 * nothing but the bundle, a SHA-256 and (better) a verifier key pinned from
 * elsewhere. Zero dependencies, no Node built-ins: it runs in a browser too.
 */
import { equalBytes, fromBase64, toBase64 } from './bytes.js';
import { parseCheckpoint, type Checkpoint } from './checkpoint.js';
import { LogError } from './errors.js';
import type { EventRecord } from './event.js';
import { canonicalBytes } from './canonicalJson.js';
import type { Hasher } from './hasher.js';
import { findDuplicateKey, formatJsonPath } from './jsonDuplicates.js';
import { createVerifier, openNote, type NoteVerifier } from './note.js';
import { verifyConsistency, verifyInclusion } from './proof.js';

/** The format tag of this version. */
export const EVIDENCE_FORMAT = 'stele-evidence/1';

/** One event of a bundle, with its inclusion proof in the tree of size `size`. */
export interface EvidenceEvent {
  record: EventRecord;
  index: number;
  /** Base64 RFC 6962 leaf hash of the record's canonical bytes. */
  leafHash: string;
  /** Base64 hashes of the inclusion proof. */
  proof: string[];
  /** The size of the checkpoint (of this bundle) the proof is against. */
  size: number;
}

/** A consistency proof between two checkpoints of the bundle. */
export interface EvidenceConsistency {
  from: number;
  to: number;
  proof: string[];
}

/** A `stele-evidence/1` bundle. */
export interface EvidenceBundle {
  format: typeof EVIDENCE_FORMAT;
  origin: string;
  verifierKey: string;
  events: EvidenceEvent[];
  /** Signed checkpoint notes, in increasing size. */
  checkpoints: string[];
  consistency: EvidenceConsistency[];
  readme: string;
}

/** What one event's check found. */
export type EvidenceEventResult =
  | { index: number; id: string; ok: true; size: number }
  | { index: number; id: string; ok: false; code: 'ERR_LEAF' | 'ERR_INCLUSION'; message: string };

/** The outcome of {@link verifyEvidence} when the bundle's frame holds. */
export interface EvidenceResult {
  /** True when every event is proven. */
  ok: boolean;
  origin: string;
  verifierKey: string;
  /** The checkpoints' sizes, increasing. */
  sizes: number[];
  /** The largest checkpoint's root, base64. */
  root: string;
  events: EvidenceEventResult[];
}

/** Options of {@link verifyEvidence}. */
export interface VerifyEvidenceOptions {
  hasher: Hasher;
  /** A key trusted from elsewhere; without it the bundle's own key is used (which proves integrity, not origin). */
  verifier?: NoteVerifier;
}

const malformed = (message: string) => new LogError('ERR_EVIDENCE_MALFORMED', message);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Checks the bundle's shape; throws `ERR_EVIDENCE_MALFORMED` naming the first bad field. */
function checkShape(bundle: unknown): asserts bundle is EvidenceBundle {
  if (!isObject(bundle)) throw malformed('the bundle is not a JSON object');
  if (bundle.format !== EVIDENCE_FORMAT) throw malformed(`format is not ${EVIDENCE_FORMAT}`);
  for (const name of ['origin', 'verifierKey', 'readme'] as const) if (typeof bundle[name] !== 'string') throw malformed(`${name} is not a string`);
  if (!isStrings(bundle.checkpoints) || bundle.checkpoints.length === 0) throw malformed('checkpoints is not a non-empty list of signed notes');
  if (!Array.isArray(bundle.events)) throw malformed('events is not a list');
  bundle.events.forEach((e: unknown, i) => {
    if (!isObject(e) || !isObject(e.record) || !isCount(e.index) || !isCount(e.size) || typeof e.leafHash !== 'string' || !isStrings(e.proof)) {
      throw malformed(`events[${i}] is not {record, index, leafHash, proof, size}`);
    }
  });
  if (!Array.isArray(bundle.consistency)) throw malformed('consistency is not a list');
  bundle.consistency.forEach((c: unknown, i) => {
    if (!isObject(c) || !isCount(c.from) || !isCount(c.to) || !isStrings(c.proof)) throw malformed(`consistency[${i}] is not {from, to, proof}`);
  });
}

function hashes(list: string[], what: string): Uint8Array[] {
  try {
    return list.map(fromBase64);
  } catch {
    throw malformed(`${what} holds a hash that is not base64`);
  }
}

/**
 * Parses a bundle's JSON text, refusing text in which an object repeats a
 * key: `JSON.parse` keeps the last value while a person reading the file sees
 * the first, so the file would not be what it appears. Every verifier of a
 * bundle's text (the CLI, the offline page) parses it here, not with
 * `JSON.parse` alone.
 *
 * @param text - the file's text (untrusted)
 * @returns the parsed value, for {@link verifyEvidence}
 * @throws SyntaxError when the text is not JSON
 * @throws LogError `ERR_EVIDENCE_DUPLICATE_KEY` naming the key, where it is and, inside an event, the event's log index
 */
export function parseEvidence(text: string): unknown {
  const value: unknown = JSON.parse(text);
  const duplicate = findDuplicateKey(text);
  if (duplicate === undefined) return value;
  const { key, path } = duplicate;
  // Name the event as verify-bundle does (by its log index) when the key is inside one.
  const events = isObject(value) && Array.isArray(value.events) ? (value.events as unknown[]) : [];
  const event = path[0] === 'events' && typeof path[1] === 'number' ? events[path[1]] : undefined;
  const index = isObject(event) && isCount(event.index) ? ` (the event at index ${event.index})` : '';
  throw new LogError(
    'ERR_EVIDENCE_DUPLICATE_KEY',
    `the key ${JSON.stringify(key)} occurs twice in ${formatJsonPath(path)}${index}: a reader sees the first value, a parser keeps the last`,
  );
}

/**
 * Verifies an evidence bundle: every checkpoint's signature (by `verifier`,
 * else the bundle's own key, which must then be the pinned one if both are
 * given), the consistency proofs between consecutive checkpoints, and each
 * event: its leaf hash recomputed from the record's canonical bytes and its
 * inclusion proof against the checkpoint of its size.
 *
 * @param bundle - the parsed JSON (untrusted); parse a bundle's text with {@link parseEvidence}
 * @param options - the hasher and, better, a verifier key pinned from elsewhere
 * @returns per-event results; `ok` is false if any event fails
 * @throws LogError `ERR_EVIDENCE_MALFORMED` (shape), `ERR_EVIDENCE_EMPTY` (no events: it proves nothing),
 *   `ERR_EVIDENCE_KEY` (the bundle's key is not the pinned one),
 *   `ERR_KEY_MALFORMED`, `ERR_NOTE_MALFORMED`, `ERR_NOTE_UNVERIFIED` (a checkpoint's signature),
 *   `ERR_CHECKPOINT_MALFORMED`, `ERR_EVIDENCE_CONSISTENCY` (checkpoints not linked)
 */
export async function verifyEvidence(bundle: unknown, options: VerifyEvidenceOptions): Promise<EvidenceResult> {
  checkShape(bundle);
  // A bundle of nothing must not pass: a script checking the exit code would take it for proof.
  if (bundle.events.length === 0) throw new LogError('ERR_EVIDENCE_EMPTY', 'the bundle holds no events: it proves nothing');
  const { hasher } = options;
  const own = await createVerifier(bundle.verifierKey);
  const verifier = options.verifier ?? own;
  if (options.verifier && (own.name !== verifier.name || own.keyId !== verifier.keyId)) {
    throw new LogError('ERR_EVIDENCE_KEY', `the bundle names the verifier key ${bundle.verifierKey}, not the pinned ${verifier.name}+${verifier.keyId.toString(16).padStart(8, '0')}`);
  }
  if (bundle.origin !== verifier.name) throw malformed(`the bundle's origin ${bundle.origin} is not the key's ${verifier.name}`);

  const checkpoints: Checkpoint[] = [];
  for (const note of bundle.checkpoints) {
    const { text } = await openNote(note, [verifier]);
    const cp = parseCheckpoint(text);
    if (cp.origin !== verifier.name) throw malformed(`a checkpoint is of ${cp.origin}, not ${verifier.name}`);
    const previous = checkpoints[checkpoints.length - 1];
    if (previous && cp.size <= previous.size) throw malformed('checkpoints are not in increasing size');
    checkpoints.push(cp);
  }

  // Consecutive checkpoints must be linked by exactly one proof each.
  for (let i = 1; i < checkpoints.length; i++) {
    const a = checkpoints[i - 1]!;
    const b = checkpoints[i]!;
    const link = bundle.consistency.find((c) => c.from === a.size && c.to === b.size);
    if (!link) throw new LogError('ERR_EVIDENCE_CONSISTENCY', `no consistency proof from size ${a.size} to ${b.size}`);
    try {
      verifyConsistency(hasher, a.size, b.size, hashes(link.proof, `consistency ${a.size}→${b.size}`), a.root, b.root);
    } catch (err) {
      if (err instanceof LogError && err.code === 'ERR_EVIDENCE_MALFORMED') throw err;
      throw new LogError('ERR_EVIDENCE_CONSISTENCY', `the log at size ${b.size} does not extend the one at size ${a.size}: ${(err as Error).message}`);
    }
  }

  const bySize = new Map(checkpoints.map((cp) => [cp.size, cp]));
  const events: EvidenceEventResult[] = bundle.events.map((e, i) => {
    const cp = bySize.get(e.size);
    if (!cp) throw malformed(`events[${i}] is proven against size ${e.size}, which no checkpoint of the bundle has`);
    const id = typeof e.record.id === 'string' ? e.record.id : '';
    const proof = hashes(e.proof, `events[${i}].proof`);
    let leaf: Uint8Array;
    try {
      leaf = hasher.hashLeaf(canonicalBytes(e.record));
    } catch (err) {
      return { index: e.index, id, ok: false, code: 'ERR_LEAF', message: `the record has no canonical form: ${(err as Error).message}` };
    }
    if (!equalBytes(leaf, hashes([e.leafHash], `events[${i}].leafHash`)[0]!)) return { index: e.index, id, ok: false, code: 'ERR_LEAF', message: 'the record is not the one whose leaf hash is given' };
    if (e.record.index !== e.index) return { index: e.index, id, ok: false, code: 'ERR_LEAF', message: `the record says index ${String(e.record.index)}, the proof ${e.index}` };
    try {
      verifyInclusion(hasher, e.index, cp.size, leaf, proof, cp.root);
    } catch (err) {
      return { index: e.index, id, ok: false, code: 'ERR_INCLUSION', message: (err as Error).message };
    }
    return { index: e.index, id, ok: true, size: cp.size };
  });
  const last = checkpoints[checkpoints.length - 1]!;
  return {
    ok: events.every((r) => r.ok),
    origin: verifier.name,
    verifierKey: bundle.verifierKey,
    sizes: checkpoints.map((cp) => cp.size),
    root: toBase64(last.root),
    events,
  };
}

/** The README an evidence bundle carries for its auditor. */
export const EVIDENCE_README = `This is a Stele evidence bundle (format stele-evidence/1, docs/EVIDENCE.md).
It holds audit events, each with an RFC 6962 inclusion proof against one of the signed
checkpoints below, and consistency proofs showing each checkpoint extends the previous one.
Verify it offline: stele verify-bundle FILE --key VERIFIER_KEY (exit 0: every event proven).
Pin the verifier key from a source you trust, not from this file: the key in the bundle
proves only that the bundle is intact, not who signed it.`;
