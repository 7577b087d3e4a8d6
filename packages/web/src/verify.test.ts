import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalBytes, createHasher, createSigner, formatCheckpoint, generateSignerKey, signNote, toBase64, type EventRecord } from '@stele/log';
import { LAST_KEY, PIN_KEY, verifyEvent, type EventProof, type PinStore } from './verify.js';

const sha256 = (d: Uint8Array) => new Uint8Array(hash('sha256', d, 'buffer'));
const hasher = createHasher(sha256);
const record = (index: number) => ({ v: 1, id: `e${index}`, time: '2026-01-01T00:00:00Z', received: '2026-01-01T00:00:00Z', index, source: 'test', action: 'file.save', actor: { id: 'alice' } }) as unknown as EventRecord;
const leaves = [0, 1, 2].map((i) => hasher.hashLeaf(canonicalBytes(record(i))));
const [l0, l1, l2] = leaves as [Uint8Array, Uint8Array, Uint8Array];
const root2 = hasher.hashChildren(l0, l1);
const root3 = hasher.hashChildren(root2, l2);

const pins = (): PinStore & { map: Map<string, string> } => {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
};

async function log(name = 'example.com/log') {
  const { signerKey, verifierKey } = await generateSignerKey(name);
  const signer = await createSigner(signerKey);
  const checkpoint = (size: number, root: Uint8Array) => signNote(formatCheckpoint({ origin: name, size, root, extensions: [] }), signer);
  return { verifierKey, checkpoint };
}

async function answerFor(index: 2 | 0, cp: string): Promise<EventProof> {
  return { event: record(index), index, leafHash: toBase64(leaves[index]!), size: 3, proof: (index === 2 ? [root2] : [l1, l2]).map(toBase64), checkpoint: cp };
}

describe('the Verified mark', () => {
  it('is earned by a good answer, pinning the key on first use and checking consistency after', async () => {
    const { verifierKey, checkpoint } = await log();
    const store = pins();
    const options = { sha256, pins: store, servedKey: async () => verifierKey, consistency: async () => [toBase64(l2)] };
    store.setItem(LAST_KEY, JSON.stringify({ size: 2, root: toBase64(root2) }));
    const first = await verifyEvent(await answerFor(2, await checkpoint(3, root3)), options);
    expect(first).toMatchObject({ ok: true, size: 3, pinnedNow: true });
    expect(store.map.get(PIN_KEY)).toBe(verifierKey);
    expect(JSON.parse(store.map.get(LAST_KEY)!)).toEqual({ size: 3, root: toBase64(root3) });
    expect(await verifyEvent(await answerFor(0, await checkpoint(3, root3)), options)).toMatchObject({ ok: true, pinnedNow: false });
  });

  it('is refused with a code for each kind of tampering', async () => {
    const good = await log();
    const other = await log();
    const cp = await good.checkpoint(3, root3);
    const base = () => ({ sha256, pins: pins(), servedKey: async () => good.verifierKey, consistency: async () => [toBase64(l2)] });
    const code = async (answer: EventProof, options = base()) => {
      const verdict = await verifyEvent(answer, options);
      return verdict.ok ? 'ok' : verdict.code;
    };
    const flipped = await answerFor(2, cp);
    const bytes = Uint8Array.from(atob(flipped.proof[0]!), (c) => c.charCodeAt(0));
    bytes[0]! ^= 1;
    flipped.proof[0] = toBase64(bytes);
    expect(await code(flipped)).toBe('ERR_INCLUSION');
    expect(await code({ ...(await answerFor(2, cp)), event: { ...record(2), action: 'file.delete' } })).toBe('ERR_LEAF');
    expect(await code(await answerFor(2, await other.checkpoint(3, root3)))).toBe('ERR_SIGNATURE');

    const pinned = base();
    pinned.pins.setItem(PIN_KEY, other.verifierKey);
    expect(await code(await answerFor(2, cp), pinned)).toBe('ERR_KEY_CHANGED');

    const forked = base();
    forked.pins.setItem(LAST_KEY, JSON.stringify({ size: 2, root: toBase64(hasher.hashChildren(l1, l0)) }));
    expect(await code(await answerFor(2, cp), forked)).toBe('ERR_CONSISTENCY');
    const rewritten = base();
    rewritten.pins.setItem(LAST_KEY, JSON.stringify({ size: 3, root: toBase64(root2) }));
    expect(await code(await answerFor(2, cp), rewritten)).toBe('ERR_CONSISTENCY');
  });
});
