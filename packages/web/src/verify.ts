/**
 * The Verified mark, earned in the browser: the checkpoint's signature is
 * checked against a verifier key pinned on first use, the event's leaf is
 * recomputed from the record shown, the inclusion proof must lead to the
 * checkpoint's root, and the checkpoint must be consistent with the last one
 * this browser saw. Everything the server sends is hostile until checked.
 */
import {
  canonicalBytes,
  createHasher,
  createVerifier,
  equalBytes,
  fromBase64,
  LogError,
  openNote,
  parseCheckpoint,
  toBase64,
  verifyConsistency,
  verifyInclusion,
  type EventRecord,
  type Sha256,
} from '@stele/log';

/** `GET /v1/events/{id}` (docs/API.md). */
export interface EventProof {
  event: EventRecord;
  index: number;
  leafHash: string;
  size: number;
  proof: string[];
  checkpoint: string;
}

/** Where the pins live: `localStorage` in the browser, a Map in tests. */
export interface PinStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** What the verifier fetches, as plain functions (tests pass their own). */
export interface VerifyOptions {
  sha256: Sha256;
  pins: PinStore;
  /** `GET /v1/log`'s verifier key: pinned on first use, compared after. */
  servedKey: () => Promise<string>;
  /** `GET /v1/proof/consistency?from&to`'s proof. */
  consistency: (from: number, to: number) => Promise<string[]>;
}

/** Why a mark was refused: a closed list. */
export type VerifyCode =
  | 'ERR_KEY_CHANGED' // the server's verifier key is not the pinned one
  | 'ERR_SIGNATURE' // the checkpoint is not signed by the pinned key
  | 'ERR_CHECKPOINT' // the checkpoint does not parse or does not match the answer
  | 'ERR_LEAF' // the record shown is not the leaf the proof is about
  | 'ERR_INCLUSION' // the proof does not lead to the checkpoint's root
  | 'ERR_CONSISTENCY'; // the log does not extend what this browser saw before

/** The outcome: a mark earned, or a refusal with its code. */
export type Verdict =
  | { ok: true; size: number; root: string; keyId: string; pinnedNow: boolean }
  | { ok: false; code: VerifyCode; message: string };

/** The pins' keys in storage. */
export const PIN_KEY = 'stele.verifierKey';
export const LAST_KEY = 'stele.lastCheckpoint';

class Refusal extends Error {
  constructor(
    readonly code: VerifyCode,
    message: string,
  ) {
    super(message);
  }
}

/** Checks one event's answer; never throws for what the server sent. */
export async function verifyEvent(answer: EventProof, options: VerifyOptions): Promise<Verdict> {
  try {
    return await check(answer, options);
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, code: err.code, message: err.message };
    if (err instanceof LogError) {
      const code: VerifyCode = err.code === 'ERR_NOTE_UNVERIFIED' ? 'ERR_SIGNATURE' : err.code === 'ERR_PROOF_INVALID' || err.code === 'ERR_ROOT_MISMATCH' ? 'ERR_INCLUSION' : 'ERR_CHECKPOINT';
      return { ok: false, code, message: err.message };
    }
    return { ok: false, code: 'ERR_CHECKPOINT', message: (err as Error).message };
  }
}

async function check(answer: EventProof, options: VerifyOptions): Promise<Verdict> {
  const { pins } = options;
  const served = await options.servedKey();
  let pinned = pins.getItem(PIN_KEY);
  const pinnedNow = pinned === null;
  if (pinned === null) {
    await createVerifier(served); // a malformed key is never pinned
    pins.setItem(PIN_KEY, served);
    pinned = served;
  }
  if (pinned !== served) throw new Refusal('ERR_KEY_CHANGED', `the server now presents the verifier key ${served}, not the pinned ${pinned}`);
  const verifier = await createVerifier(pinned);
  // The note is parsed here before its signature is checked; openNote rejects on a bad one.
  const { text } = await openNote(answer.checkpoint, [verifier]);
  const cp = parseCheckpoint(text);
  if (cp.origin !== verifier.name) throw new Refusal('ERR_CHECKPOINT', `the checkpoint is of ${cp.origin}, not ${verifier.name}`);
  if (cp.size !== answer.size) throw new Refusal('ERR_CHECKPOINT', `the proof is for size ${answer.size}, the checkpoint for ${cp.size}`);

  const hasher = createHasher(options.sha256);
  // The leaf is recomputed from the record on screen: a valid proof of another leaf earns nothing.
  const leaf = hasher.hashLeaf(canonicalBytes(answer.event));
  if (!equalBytes(leaf, fromBase64(answer.leafHash))) throw new Refusal('ERR_LEAF', 'the record shown is not the one in the log');
  if (answer.event.index !== answer.index) throw new Refusal('ERR_LEAF', `the record says index ${answer.event.index}, the proof ${answer.index}`);
  verifyInclusion(hasher, answer.index, cp.size, leaf, answer.proof.map(fromBase64), cp.root);

  await checkConsistency(cp.size, cp.root, options, hasher);
  return { ok: true, size: cp.size, root: toBase64(cp.root), keyId: pinned, pinnedNow };
}

/** The checkpoint must extend the last one this browser saw (or be extended by it). */
async function checkConsistency(size: number, root: Uint8Array, options: VerifyOptions, hasher: ReturnType<typeof createHasher>): Promise<void> {
  const { pins } = options;
  const raw = pins.getItem(LAST_KEY);
  const last = raw === null ? undefined : (JSON.parse(raw) as { size: number; root: string });
  if (last !== undefined && last.size > 0) {
    const lastRoot = fromBase64(last.root);
    try {
      if (last.size === size) {
        if (!equalBytes(lastRoot, root)) throw new Refusal('ERR_CONSISTENCY', `two different roots for size ${size}: the log was rewritten`);
      } else if (last.size < size) {
        verifyConsistency(hasher, last.size, size, (await options.consistency(last.size, size)).map(fromBase64), lastRoot, root);
      } else {
        verifyConsistency(hasher, size, last.size, (await options.consistency(size, last.size)).map(fromBase64), root, lastRoot);
        return; // an older checkpoint, consistent with the newer one already seen
      }
    } catch (err) {
      if (err instanceof Refusal) throw err;
      throw new Refusal('ERR_CONSISTENCY', `the log at size ${size} does not extend the one seen at size ${last.size}: ${(err as Error).message}`);
    }
  }
  pins.setItem(LAST_KEY, JSON.stringify({ size, root: toBase64(root) }));
}
