/**
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, in the key and note
 * formats of Go's `golang.org/x/mod/sumdb/note`, on WebCrypto so that the same
 * code runs in Node and in the browser.
 *
 * A note is a text ending in a newline, a blank line, then one or more lines
 * `— <key name> <base64(4-byte key ID || signature)>`.
 */
import { concat, fromBase64, toBase64, utf8 } from './bytes.js';
import { LogError } from './errors.js';

/** Signs note texts with one key. */
export interface NoteSigner {
  /** The key name (non-empty, no Unicode spaces, no `+`). */
  readonly name: string;
  /** The 32-bit key ID. */
  readonly keyId: number;
  /** Signs a message (the note text's UTF-8 bytes); resolves to the raw signature. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** Checks signatures by one key. */
export interface NoteVerifier {
  /** The key name (non-empty, no Unicode spaces, no `+`). */
  readonly name: string;
  /** The 32-bit key ID. */
  readonly keyId: number;
  /** Resolves true when `signature` is this key's valid signature of `message`; never rejects for a bad signature. */
  verify(message: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

/** One signature line of a note. */
export interface NoteSignature {
  /** The key name. */
  name: string;
  /** The key ID (the first four bytes of the decoded signature, big-endian). */
  keyId: number;
  /** The signature proper, without the key ID. */
  signature: Uint8Array;
}

const ALG_ED25519 = 0x01;
const SIG_PREFIX = '\u2014 '; // em dash, space
/** Go's limit; the spec asks verifiers to accept at least 16. */
const MAX_SIGNATURES = 100;
/** DER of a PKCS#8 PrivateKeyInfo for Ed25519 (RFC 8410), followed by the 32-byte seed. */
const PKCS8_ED25519 = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20);
/** Unicode spaces (the White_Space property is exactly Go's `unicode.IsSpace`), `+`, C0 controls, lone surrogates. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const BAD_NAME = /[\p{White_Space}+\u0000-\u001f]|\p{Cs}/u;
/** What a note may not contain: C0 controls other than newline, lone surrogates (not UTF-8). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const BAD_NOTE_CHAR = /[\u0000-\u0009\u000b-\u001f]|\p{Cs}/u;

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;

/** A copy backed by a plain ArrayBuffer, as WebCrypto's typings ask. */
const buf = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

function isValidName(name: string): boolean {
  return name.length > 0 && !BAD_NAME.test(name);
}

const malformedKey = (why: string): LogError => new LogError('ERR_KEY_MALFORMED', why);
const malformedNote = (why: string): LogError => new LogError('ERR_NOTE_MALFORMED', why);

const hex8 = (id: number): string => id.toString(16).padStart(8, '0');

/**
 * The key ID of an Ed25519 key: the first four bytes, big-endian, of
 * `SHA-256(name || 0x0A || 0x01 || publicKey)`.
 *
 * @param name - the key name
 * @param publicKey - the 32-byte Ed25519 public key
 * @returns the key ID as an unsigned 32-bit integer
 * @throws LogError `ERR_KEY_MALFORMED` unless the public key has 32 bytes
 */
export async function keyIdOf(name: string, publicKey: Uint8Array): Promise<number> {
  if (publicKey.length !== 32) throw malformedKey('an Ed25519 public key has 32 bytes');
  const sum = new Uint8Array(await subtle().digest('SHA-256', buf(concat(utf8(name), Uint8Array.of(0x0a, ALG_ED25519), publicKey))));
  return ((sum[0]! << 24) | (sum[1]! << 16) | (sum[2]! << 8) | sum[3]!) >>> 0;
}

interface ParsedKey {
  name: string;
  keyId: number;
  /** The 32 key bytes after the algorithm byte (a seed or a public key). */
  key: Uint8Array;
}

/** Parses `<name>+<8 hex>+<base64(0x01 || 32 bytes)>`, the tail both key formats share. */
function parseKeyTail(text: string): ParsedKey {
  const plus1 = text.indexOf('+');
  const plus2 = plus1 < 0 ? -1 : text.indexOf('+', plus1 + 1);
  if (plus2 < 0) throw malformedKey('a key has the form <name>+<key id>+<key>');
  const name = text.slice(0, plus1);
  const id = text.slice(plus1 + 1, plus2);
  if (!isValidName(name)) throw malformedKey('a key name is non-empty, without spaces, "+" or control characters');
  if (!/^[0-9a-fA-F]{8}$/.test(id)) throw malformedKey('a key id is 8 hex digits');
  let key: Uint8Array;
  try {
    key = fromBase64(text.slice(plus2 + 1));
  } catch {
    throw malformedKey('the key is not standard base64');
  }
  if (key[0] !== ALG_ED25519) throw malformedKey('only Ed25519 keys (algorithm 0x01) are supported');
  if (key.length !== 33) throw malformedKey('an Ed25519 key has 32 bytes');
  return { name, keyId: parseInt(id, 16), key: key.subarray(1) };
}

/**
 * Parses a signer key `PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>` without
 * importing it, for platforms with a faster Ed25519 of their own (Node's
 * `crypto.sign`). The secret seed is in `key`: handle it as such.
 *
 * @throws LogError `ERR_KEY_MALFORMED`
 */
export function parseSignerKey(signerKey: string): { name: string; keyId: number; key: Uint8Array } {
  if (typeof signerKey !== 'string' || !signerKey.startsWith('PRIVATE+KEY+')) {
    throw malformedKey('a signer key starts with PRIVATE+KEY+');
  }
  return parseKeyTail(signerKey.slice('PRIVATE+KEY+'.length));
}

/** Imports an Ed25519 seed; WebCrypto cannot derive a public key, so it is read from a JWK export. */
async function importSeed(seed: Uint8Array): Promise<{ privateKey: CryptoKey; publicKey: Uint8Array }> {
  const pkcs8 = buf(concat(PKCS8_ED25519, seed));
  try {
    const extractable = await subtle().importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
    const { x } = await subtle().exportKey('jwk', extractable);
    if (x === undefined) throw malformedKey('the Ed25519 key has no public part');
    const publicKey = fromBase64(x.replace(/-/g, '+').replace(/_/g, '/') + '=');
    const privateKey = await subtle().importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign']);
    return { privateKey, publicKey };
  } finally {
    pkcs8.fill(0);
  }
}

const formatVerifierKey = (name: string, keyId: number, publicKey: Uint8Array): string =>
  `${name}+${hex8(keyId)}+${toBase64(concat(Uint8Array.of(ALG_ED25519), publicKey))}`;

/**
 * Generates a new Ed25519 key pair for `name`, in Go's `note` formats.
 *
 * @param name - the key name (non-empty, no Unicode spaces, no `+`); C2SP recommends a schema-less URL
 * @returns `signerKey` (`PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>`, secret) and
 *   `verifierKey` (`<name>+<id>+<base64(0x01 || public key)>`)
 * @throws LogError `ERR_KEY_MALFORMED` for an invalid name
 */
export async function generateSignerKey(name: string): Promise<{ signerKey: string; verifierKey: string }> {
  if (typeof name !== 'string' || !isValidName(name)) throw malformedKey('a key name is non-empty, without spaces, "+" or control characters');
  const seed = globalThis.crypto.getRandomValues(new Uint8Array(32));
  try {
    const { publicKey } = await importSeed(seed);
    const keyId = await keyIdOf(name, publicKey);
    return {
      signerKey: `PRIVATE+KEY+${name}+${hex8(keyId)}+${toBase64(concat(Uint8Array.of(ALG_ED25519), seed))}`,
      verifierKey: formatVerifierKey(name, keyId, publicKey),
    };
  } finally {
    seed.fill(0);
  }
}

/**
 * A signer from a signer key `PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>`.
 * The seed is imported into WebCrypto as a non-extractable key.
 *
 * @param signerKey - the encoded signer key
 * @returns the signer
 * @throws LogError `ERR_KEY_MALFORMED` if the key does not parse or its ID does not match its public key
 */
export async function createSigner(signerKey: string): Promise<NoteSigner> {
  const { name, keyId, key } = parseSignerKey(signerKey);
  const { privateKey, publicKey } = await importSeed(key);
  if ((await keyIdOf(name, publicKey)) !== keyId) throw malformedKey('the key id does not match the key');
  return Object.freeze({
    name,
    keyId,
    sign: async (message: Uint8Array) => new Uint8Array(await subtle().sign('Ed25519', privateKey, buf(message))),
  });
}

/**
 * A verifier from a verifier key `<name>+<id>+<base64(0x01 || public key)>`.
 *
 * @param verifierKey - the encoded verifier key
 * @returns the verifier
 * @throws LogError `ERR_KEY_MALFORMED` if the key does not parse, its ID does not
 *   match it, or WebCrypto refuses the public key
 */
export async function createVerifier(verifierKey: string): Promise<NoteVerifier> {
  if (typeof verifierKey !== 'string') throw malformedKey('a verifier key is a string');
  const { name, keyId, key } = parseKeyTail(verifierKey);
  if ((await keyIdOf(name, key)) !== keyId) throw malformedKey('the key id does not match the key');
  let publicKey: CryptoKey;
  try {
    publicKey = await subtle().importKey('raw', buf(key), { name: 'Ed25519' }, false, ['verify']);
  } catch {
    throw malformedKey('not a usable Ed25519 public key');
  }
  return Object.freeze({
    name,
    keyId,
    async verify(message: Uint8Array, signature: Uint8Array): Promise<boolean> {
      if (signature.length !== 64) return false;
      try {
        return await subtle().verify('Ed25519', publicKey, buf(signature), buf(message));
      } catch {
        return false;
      }
    },
  });
}

/**
 * The verifier key that matches a signer key.
 *
 * @param signerKey - the encoded signer key
 * @returns the encoded verifier key
 * @throws LogError `ERR_KEY_MALFORMED` as {@link createSigner}
 */
export async function verifierKeyOf(signerKey: string): Promise<string> {
  const { name, keyId, key } = parseSignerKey(signerKey);
  const { publicKey } = await importSeed(key);
  if ((await keyIdOf(name, publicKey)) !== keyId) throw malformedKey('the key id does not match the key');
  return formatVerifierKey(name, keyId, publicKey);
}

function checkText(text: string): void {
  if (BAD_NOTE_CHAR.test(text)) throw malformedNote('a note is valid Unicode without control characters other than newline');
}

/**
 * Signs a text, one signature line per signer, in the order given.
 *
 * @param text - the note text: ends in a newline, valid Unicode, no control characters other than newline
 * @param signers - one or more signers
 * @returns `text + "\n" + "— <name> <base64(key ID || signature)>\n"` for each signer
 * @throws LogError `ERR_NOTE_MALFORMED` for an invalid text or no signers (or more than 100);
 *   `ERR_KEY_MALFORMED` for a signer with an invalid name or key ID
 */
export async function signNote(text: string, ...signers: NoteSigner[]): Promise<string> {
  if (typeof text !== 'string' || !text.endsWith('\n')) throw malformedNote('a note text ends in a newline');
  checkText(text);
  if (signers.length === 0 || signers.length > MAX_SIGNATURES) throw malformedNote(`a note has 1 to ${MAX_SIGNATURES} signatures`);
  const message = utf8(text);
  let lines = '';
  for (const signer of signers) {
    if (!isValidName(signer.name)) throw malformedKey('a key name is non-empty, without spaces, "+" or control characters');
    if (!Number.isInteger(signer.keyId) || signer.keyId < 0 || signer.keyId > 0xffffffff) throw malformedKey('a key id is a 32-bit unsigned integer');
    const signature = await signer.sign(message);
    const id = Uint8Array.of(signer.keyId >>> 24, (signer.keyId >>> 16) & 255, (signer.keyId >>> 8) & 255, signer.keyId & 255);
    lines += `${SIG_PREFIX}${signer.name} ${toBase64(concat(id, signature))}\n`;
  }
  return `${text}\n${lines}`;
}

/**
 * Parses a signed note WITHOUT checking any signature.
 *
 * The input is hostile: this runs before any signature is verified, so it
 * checks the whole syntax, bounds the work (at most 100 signature lines, each
 * decoded once) and returns nothing that a caller should trust. Use
 * {@link openNote} to get a text you may act on.
 *
 * @param note - the whole signed note
 * @returns the text (with its final newline, without the blank line) and every signature line, in order
 * @throws LogError `ERR_NOTE_MALFORMED` if it is not a well-formed note
 */
export function parseNote(note: string): { text: string; signatures: NoteSignature[] } {
  if (typeof note !== 'string') throw malformedNote('a note is a string');
  checkText(note);
  // The text may contain blank lines; the last one separates it from the signatures.
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw malformedNote('a note has a blank line before its signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n')) throw malformedNote('a note ends with signature lines, each ending in a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw malformedNote(`a note has at most ${MAX_SIGNATURES} signatures`);
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX)) throw malformedNote('a signature line starts with an em dash and a space');
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const b64 = space < 0 ? '' : rest.slice(space + 1);
    if (!isValidName(name)) throw malformedNote('a signature line has an invalid key name');
    let raw: Uint8Array;
    try {
      raw = fromBase64(b64);
    } catch {
      throw malformedNote('a signature is not standard base64');
    }
    if (raw.length < 5) throw malformedNote('a signature has a 4-byte key id and at least one byte');
    const keyId = ((raw[0]! << 24) | (raw[1]! << 16) | (raw[2]! << 8) | raw[3]!) >>> 0;
    signatures.push({ name, keyId, signature: raw.slice(4) });
  }
  return { text, signatures };
}

const keyOf = (name: string, keyId: number): string => `${keyId}:${name}`;

/**
 * Opens a signed note: parses it and checks the signatures of the known keys.
 *
 * Signatures by unknown keys (no verifier with the same name AND key ID) are
 * ignored and returned as `unverified` (identical lines once). Every signature
 * by a known key is checked, repeats included, and one bad signature rejects the
 * whole note. When two verifiers share a name and key ID, either may accept.
 *
 * @param note - the whole signed note (hostile input)
 * @param verifiers - the trusted keys
 * @returns the text, the verified signatures (one per key) and the unverified ones
 * @throws LogError `ERR_NOTE_MALFORMED` if it does not parse; `ERR_NOTE_UNVERIFIED`
 *   if a known key's signature is bad or no known key signed it
 */
export async function openNote(
  note: string,
  verifiers: readonly NoteVerifier[],
): Promise<{ text: string; verified: NoteSignature[]; unverified: NoteSignature[] }> {
  const { text, signatures } = parseNote(note);
  const known = new Map<string, NoteVerifier[]>();
  for (const v of verifiers) {
    const k = keyOf(v.name, v.keyId);
    known.set(k, [...(known.get(k) ?? []), v]);
  }
  const message = utf8(text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seenVerified = new Set<string>();
  const seenUnverified = new Set<string>();
  for (const sig of signatures) {
    const k = keyOf(sig.name, sig.keyId);
    const candidates = known.get(k);
    if (candidates === undefined) {
      const line = `${k}:${toBase64(sig.signature)}`;
      if (!seenUnverified.has(line)) unverified.push(sig);
      seenUnverified.add(line);
      continue;
    }
    let ok = false;
    for (const v of candidates) if (!ok) ok = await v.verify(message, sig.signature);
    if (!ok) throw new LogError('ERR_NOTE_UNVERIFIED', `invalid signature by known key ${sig.name}+${hex8(sig.keyId)}`);
    if (!seenVerified.has(k)) verified.push(sig);
    seenVerified.add(k);
  }
  if (verified.length === 0) throw new LogError('ERR_NOTE_UNVERIFIED', 'no known key signed the note');
  return { text, verified, unverified };
}
