import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toBase64 } from './bytes.js';
import { canonicalBytes } from './canonicalJson.js';
import { formatCheckpoint } from './checkpoint.js';
import { LogError } from './errors.js';
import type { EventRecord } from './event.js';
import { EVIDENCE_FORMAT, EVIDENCE_README, parseEvidence, verifyEvidence, type EvidenceBundle } from './evidence.js';
import { createHasher } from './hasher.js';
import { createSigner, createVerifier, generateSignerKey, signNote } from './note.js';

const hasher = createHasher((d) => new Uint8Array(hash('sha256', d, 'buffer')));
const record = (index: number) => ({ v: 1, id: `e${index}`, time: '2026-01-01T00:00:00Z', received: '2026-01-01T00:00:00Z', index, source: 'test', action: 'file.save', actor: { id: 'alice' } }) as unknown as EventRecord;
const leaves = [0, 1, 2].map((i) => hasher.hashLeaf(canonicalBytes(record(i))));
const [l0, l1, l2] = leaves as [Uint8Array, Uint8Array, Uint8Array];
const root2 = hasher.hashChildren(l0, l1);
const root3 = hasher.hashChildren(root2, l2);
const ORIGIN = 'example.com/log';

async function keys(name = ORIGIN) {
  const { signerKey, verifierKey } = await generateSignerKey(name);
  const signer = await createSigner(signerKey);
  return { verifierKey, sign: (size: number, root: Uint8Array) => signNote(formatCheckpoint({ origin: name, size, root, extensions: [] }), signer) };
}

/** Event 0 proven at size 2, event 2 at size 3, and the link 2→3. */
async function bundle(k: Awaited<ReturnType<typeof keys>>): Promise<EvidenceBundle> {
  return {
    format: EVIDENCE_FORMAT,
    origin: ORIGIN,
    verifierKey: k.verifierKey,
    events: [
      { record: record(0), index: 0, leafHash: toBase64(l0), proof: [toBase64(l1)], size: 2 },
      { record: record(2), index: 2, leafHash: toBase64(l2), proof: [toBase64(root2)], size: 3 },
    ],
    checkpoints: [await k.sign(2, root2), await k.sign(3, root3)],
    consistency: [{ from: 2, to: 3, proof: [toBase64(l2)] }],
    readme: EVIDENCE_README,
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return e instanceof LogError ? e.code : `not a LogError: ${String(e)}`;
  }
}

describe('verifyEvidence', () => {
  it('proves every event of a well-formed bundle, with its own key or a pinned one', async () => {
    const k = await keys();
    const b = await bundle(k);
    const result = await verifyEvidence(b, { hasher });
    expect(result.ok).toBe(true);
    expect(result.sizes).toEqual([2, 3]);
    expect(result.root).toBe(toBase64(root3));
    expect(result.events).toEqual([
      { index: 0, id: 'e0', ok: true, size: 2 },
      { index: 2, id: 'e2', ok: true, size: 3 },
    ]);
    expect((await verifyEvidence(JSON.parse(JSON.stringify(b)), { hasher, verifier: await createVerifier(k.verifierKey) })).ok).toBe(true);
  });

  it('refuses a changed record, leaf hash or proof, per event', async () => {
    const b = await bundle(await keys());
    (b.events[0]!.record as unknown as { action: string }).action = 'file.delete';
    b.events[1]!.proof = [toBase64(l1)];
    const result = await verifyEvidence(b, { hasher });
    expect(result.ok).toBe(false);
    expect(result.events.map((e) => (e.ok ? 'ok' : e.code))).toEqual(['ERR_LEAF', 'ERR_INCLUSION']);

    const c = await bundle(await keys());
    c.events[0]!.leafHash = toBase64(l1); // a valid proof of another leaf earns nothing
    expect((await verifyEvidence(c, { hasher })).events[0]).toMatchObject({ ok: false, code: 'ERR_LEAF' });
  });

  it('refuses a bundle signed by another key than the pinned one', async () => {
    const b = await bundle(await keys());
    const other = await keys();
    expect(await codeOf(verifyEvidence(b, { hasher, verifier: await createVerifier(other.verifierKey) }))).toBe('ERR_EVIDENCE_KEY');
    // The bundle's key swapped for the pinned one: the signatures do not verify.
    b.verifierKey = other.verifierKey;
    expect(await codeOf(verifyEvidence(b, { hasher, verifier: await createVerifier(other.verifierKey) }))).toBe('ERR_NOTE_UNVERIFIED');
  });

  it('refuses a forged checkpoint, a missing or bad consistency proof, and a rewritten history', async () => {
    const k = await keys();
    const forged = await bundle(k);
    forged.checkpoints[1] = forged.checkpoints[1]!.replace(/\n3\n/, '\n4\n');
    expect(await codeOf(verifyEvidence(forged, { hasher }))).toBe('ERR_NOTE_UNVERIFIED');

    const missing = await bundle(k);
    missing.consistency = [];
    expect(await codeOf(verifyEvidence(missing, { hasher }))).toBe('ERR_EVIDENCE_CONSISTENCY');

    const bad = await bundle(k);
    bad.consistency[0]!.proof = [toBase64(l0)];
    expect(await codeOf(verifyEvidence(bad, { hasher }))).toBe('ERR_EVIDENCE_CONSISTENCY');

    // Both checkpoints honestly signed, but of two different histories (a split view).
    const split = await bundle(k);
    const other = hasher.hashLeaf(canonicalBytes(record(9)));
    split.checkpoints[1] = await k.sign(3, hasher.hashChildren(hasher.hashChildren(l0, other), l2));
    expect(await codeOf(verifyEvidence(split, { hasher }))).toBe('ERR_EVIDENCE_CONSISTENCY');
  });

  it('refuses malformed bundles with ERR_EVIDENCE_MALFORMED', async () => {
    const k = await keys();
    const cases: ((b: Record<string, unknown>) => void)[] = [
      (b) => (b.format = 'stele-evidence/2'),
      (b) => (b.checkpoints = []),
      (b) => (b.events = [{ record: {} }]),
      (b) => (b.consistency = [{ from: 'x' }]),
      (b) => ((b.events as EvidenceBundle['events'])[0]!.size = 5),
      (b) => (b.checkpoints = [...(b.checkpoints as string[])].reverse()),
      (b) => (b.origin = 'elsewhere'),
    ];
    for (const edit of cases) {
      const b = (await bundle(k)) as unknown as Record<string, unknown>;
      edit(b);
      expect(await codeOf(verifyEvidence(b, { hasher }))).toBe('ERR_EVIDENCE_MALFORMED');
    }
    expect(await codeOf(verifyEvidence(null, { hasher }))).toBe('ERR_EVIDENCE_MALFORMED');
  });

  it('refuses a bundle of no events with ERR_EVIDENCE_EMPTY: it proves nothing', async () => {
    const b = await bundle(await keys());
    b.events = [];
    expect(await codeOf(verifyEvidence(b, { hasher }))).toBe('ERR_EVIDENCE_EMPTY');
  });
});

describe('parseEvidence', () => {
  const codeOfParse = (text: string) => codeOf(Promise.resolve().then(() => parseEvidence(text)));

  it('parses a bundle whose objects have distinct keys', async () => {
    const b = await bundle(await keys());
    const text = JSON.stringify(b, null, 2);
    expect(parseEvidence(text)).toEqual(b);
    expect((await verifyEvidence(parseEvidence(text), { hasher })).ok).toBe(true);
  });

  it('refuses a key repeated in a record with ERR_EVIDENCE_DUPLICATE_KEY, naming the key and the event', async () => {
    const text = JSON.stringify(await bundle(await keys())).replace('"action":"file.save"', '"action":"file.delete","\\u0061ction":"file.save"');
    // JSON.parse keeps the last value: without this check the edited record would verify.
    expect((await verifyEvidence(JSON.parse(text), { hasher })).ok).toBe(true);
    expect(await codeOfParse(text)).toBe('ERR_EVIDENCE_DUPLICATE_KEY');
    expect(() => parseEvidence(text)).toThrow(/"action" occurs twice in events\[0\]\.record \(the event at index 0\)/);
  });

  it('refuses a key repeated at the top level, and lets text that is not JSON throw SyntaxError', async () => {
    const text = JSON.stringify(await bundle(await keys())).replace('{"format"', '{"origin":"elsewhere","format"');
    expect(await codeOfParse(text)).toBe('ERR_EVIDENCE_DUPLICATE_KEY');
    expect(() => parseEvidence('{"format":')).toThrow(SyntaxError);
  });
});
