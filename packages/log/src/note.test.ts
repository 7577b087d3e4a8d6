import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from './bytes.js';
import {
  createSigner,
  createVerifier,
  generateSignerKey,
  keyIdOf,
  openNote,
  parseNote,
  signNote,
  verifierKeyOf,
  type NoteSigner,
} from './note.js';
import { vectorsDir } from './testVectors.js';

const vectors = pathToFileURL(vectorsDir('tlog'));
const sizes = readdirSync(fileURLToPath(vectors))
  .filter((d) => d.startsWith('size-'))
  .sort();

function vector(dir: string): { note: string; text: string; skey: string; vkey: string } {
  const read = (f: string): string => readFileSync(fileURLToPath(new URL(`${dir}/${f}`, vectors)), 'utf8');
  const note = read('checkpoint');
  return { note, text: note.slice(0, note.indexOf('\n\n') + 1), skey: read('skey').trim(), vkey: read('vkey').trim() };
}

/** Resolves to the error's code, or fails the test if nothing was thrown. */
async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (e) {
    return (e as { code?: string }).code ?? `not a LogError: ${String(e)}`;
  }
  throw new Error('expected an error');
}

describe('vectors written by Go (golang.org/x/mod/sumdb/note)', () => {
  it('finds the vectors', () => expect(sizes.length).toBeGreaterThanOrEqual(6));

  describe.each(sizes)('%s', (dir) => {
    const v = vector(dir);

    it('reproduces the signature line byte for byte', async () => {
      expect(await signNote(v.text, await createSigner(v.skey))).toBe(v.note);
    });

    it('opens the note with vkey', async () => {
      const opened = await openNote(v.note, [await createVerifier(v.vkey)]);
      expect(opened.text).toBe(v.text);
      expect(opened.verified).toHaveLength(1);
      expect(opened.unverified).toHaveLength(0);
    });

    it('derives vkey from skey', async () => {
      expect(await verifierKeyOf(v.skey)).toBe(v.vkey);
    });

    it('computes the key id from the name and public key', async () => {
      const first = v.vkey.indexOf('+');
      const second = v.vkey.indexOf('+', first + 1);
      const publicKey = fromBase64(v.vkey.slice(second + 1)).subarray(1);
      const id = await keyIdOf(v.vkey.slice(0, first), publicKey);
      expect(id.toString(16).padStart(8, '0')).toBe(v.vkey.slice(first + 1, second));
    });

    it('rejects a tampered text', async () => {
      const verifier = await createVerifier(v.vkey);
      const tampered = v.note.replace(/\n(\d+)\n/, (_, n: string) => `\n${Number(n) + 1}\n`);
      expect(await codeOf(() => openNote(tampered, [verifier]))).toBe('ERR_NOTE_UNVERIFIED');
    });

    it('rejects a tampered signature', async () => {
      const verifier = await createVerifier(v.vkey);
      const { signatures } = parseNote(v.note);
      const sig = signatures[0]!;
      const raw = Uint8Array.from([sig.keyId >>> 24, (sig.keyId >>> 16) & 255, (sig.keyId >>> 8) & 255, sig.keyId & 255, ...sig.signature]);
      raw[10]! ^= 1;
      const tampered = `${v.text}\n\u2014 ${sig.name} ${toBase64(raw)}\n`;
      expect(await codeOf(() => openNote(tampered, [verifier]))).toBe('ERR_NOTE_UNVERIFIED');
    });
  });
});

describe('keys', () => {
  it('generates keys that round-trip', async () => {
    const { signerKey, verifierKey } = await generateSignerKey('example.com/log');
    expect(signerKey).toMatch(/^PRIVATE\+KEY\+example\.com\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    expect(verifierKey).toMatch(/^example\.com\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    expect(await verifierKeyOf(signerKey)).toBe(verifierKey);
    const signer = await createSigner(signerKey);
    const verifier = await createVerifier(verifierKey);
    expect(signer.keyId).toBe(verifier.keyId);
    expect(signer.name).toBe('example.com/log');
    const note = await signNote('hello\n', signer);
    expect((await openNote(note, [verifier])).text).toBe('hello\n');
  });

  it.each(['', 'a b', 'a+b', 'a\tb', 'a\u00a0b', 'a\u3000b', 'a\u0001b'])('refuses the name %j', async (name) => {
    expect(await codeOf(() => generateSignerKey(name))).toBe('ERR_KEY_MALFORMED');
  });

  const vkey = 'example.com/vectors/1+7544513c+AbbcUCDCaubA1Ihk9/OgfY7nhfbvJzoxu6JJ1msNSFAg';
  const skey = 'PRIVATE+KEY+example.com/vectors/1+7544513c+AeXa27fQYRq9zoiD4nsG19eNAO2j5XIofm//udWIdSNP';

  it('accepts an upper-case key id, as Go does', async () => {
    expect((await createVerifier(vkey.replace('7544513c', '7544513C'))).keyId).toBe(0x7544513c);
  });

  it.each([
    ['no parts', 'example.com'],
    ['no key', 'example.com+7544513c'],
    ['short id', vkey.replace('7544513c', '544513c')],
    ['non-hex id', vkey.replace('7544513c', '7544513g')],
    ['wrong id', vkey.replace('7544513c', '7544513d')],
    ['bad base64', `${vkey}=`],
    ['trailing newline', `${vkey}\n`],
    ['empty name', vkey.replace('example.com/vectors/1', '')],
    ['spaced name', vkey.replace('example.com/vectors/1', 'a b')],
    ['unknown algorithm', vkey.replace('+Abbc', '+Arbc')],
    ['short key', 'example.com+7544513c+AQID'],
  ])('createVerifier refuses %s', async (_, key) => {
    expect(await codeOf(() => createVerifier(key))).toBe('ERR_KEY_MALFORMED');
  });

  it.each([
    ['a verifier key', vkey],
    ['no PRIVATE+KEY', skey.slice('PRIVATE+KEY+'.length)],
    ['wrong id', skey.replace('7544513c', '7544513d')],
    ['bad base64', skey.slice(0, -1)],
    ['short seed', 'PRIVATE+KEY+example.com+7544513c+AQID'],
  ])('createSigner and verifierKeyOf refuse %s', async (_, key) => {
    expect(await codeOf(() => createSigner(key))).toBe('ERR_KEY_MALFORMED');
    expect(await codeOf(() => verifierKeyOf(key))).toBe('ERR_KEY_MALFORMED');
  });
});

describe('notes', () => {
  const signers = async (n: number): Promise<{ signers: NoteSigner[]; vkeys: string[] }> => {
    const keys = await Promise.all(Array.from({ length: n }, (_, i) => generateSignerKey(`witness${i}.example`)));
    return { signers: await Promise.all(keys.map((k) => createSigner(k.signerKey))), vkeys: keys.map((k) => k.verifierKey) };
  };

  it('opens a note with 20 signatures, mostly by unknown keys', async () => {
    const { signers: all, vkeys } = await signers(20);
    const note = await signNote('origin\n42\n\nwith a blank line inside\n', ...all);
    expect(parseNote(note).signatures).toHaveLength(20);
    const opened = await openNote(note, [await createVerifier(vkeys[3]!), await createVerifier(vkeys[17]!)]);
    expect(opened.text).toBe('origin\n42\n\nwith a blank line inside\n');
    expect(opened.verified.map((s) => s.name)).toEqual(['witness3.example', 'witness17.example']);
    expect(opened.unverified).toHaveLength(18);
  });

  it('keeps each known key once and identical unknown lines once', async () => {
    const { signers: [a, b], vkeys } = await signers(2);
    const note = await signNote('t\n', a!, a!, b!, b!);
    const opened = await openNote(note, [await createVerifier(vkeys[0]!)]);
    expect(opened.verified).toHaveLength(1);
    expect(opened.unverified).toHaveLength(1);
  });

  it('ignores a key that shares only the name or only the id of a known key', async () => {
    const { signers: [a], vkeys } = await signers(1);
    const known = await createVerifier(vkeys[0]!);
    const sameName: NoteSigner = { name: a!.name, keyId: (a!.keyId + 1) >>> 0, sign: async () => new Uint8Array(64) };
    const sameId: NoteSigner = { name: 'other.example', keyId: a!.keyId, sign: async () => new Uint8Array(64) };
    const opened = await openNote(await signNote('t\n', sameName, sameId, a!), [known]);
    expect(opened.verified).toHaveLength(1);
    expect(opened.unverified).toHaveLength(2);
  });

  it('rejects a bad signature by a known key even when another is good', async () => {
    const { signers: [a], vkeys } = await signers(1);
    const forged: NoteSigner = { name: a!.name, keyId: a!.keyId, sign: async () => new Uint8Array(64).fill(7) };
    const note = await signNote('t\n', a!, forged);
    const verifier = await createVerifier(vkeys[0]!);
    expect(await codeOf(() => openNote(note, [verifier]))).toBe('ERR_NOTE_UNVERIFIED');
  });

  it('rejects a note no known key signed', async () => {
    const { signers: [a], vkeys } = await signers(2);
    const note = await signNote('t\n', a!);
    const other = await createVerifier(vkeys[1]!);
    expect(await codeOf(() => openNote(note, [other]))).toBe('ERR_NOTE_UNVERIFIED');
    expect(await codeOf(() => openNote(note, []))).toBe('ERR_NOTE_UNVERIFIED');
  });

  it('rejects more than 100 signatures before verifying any', async () => {
    const line = `\u2014 x.example ${toBase64(new Uint8Array(68))}\n`;
    expect(parseNote(`t\n\n${line.repeat(100)}`).signatures).toHaveLength(100);
    expect(await codeOf(() => parseNote(`t\n\n${line.repeat(101)}`))).toBe('ERR_NOTE_MALFORMED');
  });

  const sig = toBase64(new Uint8Array(68));
  it.each([
    ['empty', ''],
    ['no blank line', `t\n\u2014 k ${sig}\n`],
    ['no signatures', 't\n\n'],
    ['no final newline', `t\n\n\u2014 k ${sig}`],
    ['a hyphen for the em dash', `t\n\n- k ${sig}\n`],
    ['an en dash', `t\n\n\u2013 k ${sig}\n`],
    ['no space after the dash', `t\n\n\u2014k ${sig}\n`],
    ['no signature', 't\n\n\u2014 k\n'],
    ['an empty signature', 't\n\n\u2014 k \n'],
    ['two spaces', `t\n\n\u2014 k  ${sig}\n`],
    ['an empty name', `t\n\n\u2014  ${sig}\n`],
    ['a plus in the name', `t\n\n\u2014 a+b ${sig}\n`],
    ['a no-break space in the name', `t\n\n\u2014 a\u00a0b ${sig}\n`],
    ['unpadded base64', `t\n\n\u2014 k ${sig.replace(/=+$/, '')}\n`],
    ['URL-safe base64', `t\n\n\u2014 k ${toBase64(new Uint8Array(68).fill(0xfb))}\n`.replace(/\+/g, '-')],
    ['a 4-byte signature', `t\n\n\u2014 k ${toBase64(new Uint8Array(4))}\n`],
    ['a trailing line', `t\n\n\u2014 k ${sig}\nextra\n`],
    ['a carriage return', `t\r\n\n\u2014 k ${sig}\n`],
    ['a tab', `t\tu\n\n\u2014 k ${sig}\n`],
    ['a NUL', `t\u0000\n\n\u2014 k ${sig}\n`],
    ['a lone surrogate', `t\ud800\n\n\u2014 k ${sig}\n`],
    ['trailing CRLF', `t\n\n\u2014 k ${sig}\r\n`],
  ])('rejects a note with %s', async (_, note) => {
    expect(await codeOf(() => parseNote(note))).toBe('ERR_NOTE_MALFORMED');
    expect(await codeOf(() => openNote(note, []))).toBe('ERR_NOTE_MALFORMED');
  });

  it('parses a signature into name, key id and bytes', () => {
    const raw = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3]);
    expect(parseNote(`\n\n\u2014 k.example ${toBase64(raw)}\n`)).toEqual({
      text: '\n',
      signatures: [{ name: 'k.example', keyId: 0xdeadbeef, signature: Uint8Array.from([1, 2, 3]) }],
    });
  });

  it('refuses to sign an invalid text or without signers', async () => {
    const [signer] = (await signers(1)).signers;
    for (const text of ['', 'no newline', 'a\tb\n', 'a\r\n', '\ud800\n']) {
      expect(await codeOf(() => signNote(text, signer!))).toBe('ERR_NOTE_MALFORMED');
    }
    expect(await codeOf(() => signNote('t\n'))).toBe('ERR_NOTE_MALFORMED');
  });

  it('refuses a signer with an invalid name or key id', async () => {
    const sign = async (): Promise<Uint8Array> => new Uint8Array(64);
    expect(await codeOf(() => signNote('t\n', { name: 'a b', keyId: 1, sign }))).toBe('ERR_KEY_MALFORMED');
    expect(await codeOf(() => signNote('t\n', { name: 'a', keyId: 2 ** 32, sign }))).toBe('ERR_KEY_MALFORMED');
  });
});
