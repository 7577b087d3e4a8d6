import { createPrivateKey, sign } from 'node:crypto';
import { createSigner, parseSignerKey, type NoteSigner } from '@stele/log';

/** The DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * A checkpoint signer on Node's own Ed25519 (`crypto.sign`): the same
 * signatures as the log core's WebCrypto signer (Ed25519 is deterministic),
 * computed synchronously on the commit path instead of in the thread pool.
 */
export async function createNodeSigner(signerKey: string): Promise<NoteSigner> {
  // The log core checks the key's form and that its id matches its public key.
  const checked = await createSigner(signerKey);
  const { key: seed } = parseSignerKey(signerKey);
  const der = Buffer.concat([PKCS8_ED25519, seed]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  der.fill(0);
  return Object.freeze({
    name: checked.name,
    keyId: checked.keyId,
    sign: async (message: Uint8Array) => new Uint8Array(sign(null, message, privateKey)),
  });
}
