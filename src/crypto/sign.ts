// Signed snapshots: an Ed25519 signature over the exact bytes of snapshot.json (which carries
// the archive's sha256 and size), so someone who can write the bucket but does not hold the
// private key cannot forge or alter a snapshot a restore accepts. node:crypto only.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { errorMessage, UserError } from '../core/errors.js';
import { readSecretFile } from './age.js';

/** A private key that signs snapshots, with its public key's fingerprint. */
export interface SigningKey {
  privateKey: KeyObject;
  fingerprint: string;
}

/** A public key that a snapshot's signature must verify with. */
export interface VerifyKey {
  publicKey: KeyObject;
  fingerprint: string;
}

/** The stored signature object (snapshot.json.sig): JSON, one line. */
export interface SignatureFile {
  algorithm: 'ed25519';
  /** `SHA256:` and the hex SHA-256 of the raw 32-byte public key. */
  keyFingerprint: string;
  /** base64 of the 64-byte Ed25519 signature of snapshot.json's bytes. */
  signature: string;
}

const MAKE_KEY_HINT =
  'make a key with: openssl genpkey -algorithm ed25519 -out sign.pem; its public key with: openssl pkey -in sign.pem -pubout -out sign.pub.pem';

/** `SHA256:<hex>` of the raw Ed25519 public key (the last 32 bytes of its SPKI DER). */
export function keyFingerprint(publicKey: KeyObject): string {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return `SHA256:${createHash('sha256')
    .update(der.subarray(der.length - 32))
    .digest('hex')}`;
}

function notEd25519(what: string, source: string, type: string | undefined): UserError {
  return new UserError(
    `${source} is not an Ed25519 ${what} (it is ${type ?? 'not a key'})`,
    MAKE_KEY_HINT,
  );
}

/** The private key of a PEM (PKCS#8, as `openssl genpkey -algorithm ed25519` writes it). */
export function parseSigningKey(pem: string | Buffer, source: string): SigningKey {
  const privateKey = readEd25519('private key', source, () =>
    createPrivateKey({ key: pem, format: 'pem' }),
  );
  return { privateKey, fingerprint: keyFingerprint(createPublicKey(privateKey)) };
}

/** The public key of a PEM (`openssl pkey -in sign.pem -pubout`). */
export function parseVerifyKey(pem: string | Buffer, source: string): VerifyKey {
  const publicKey = readEd25519('public key', source, () => {
    if (String(pem).includes('PRIVATE KEY'))
      throw new Error('it is a private key; give the public key');
    return createPublicKey({ key: pem, format: 'pem' });
  });
  return { publicKey, fingerprint: keyFingerprint(publicKey) };
}

/** A key read by `read`, which must be an Ed25519 key; anything else is the user's error. */
function readEd25519(
  what: 'private key' | 'public key',
  source: string,
  read: () => KeyObject,
): KeyObject {
  let key: KeyObject;
  try {
    key = read();
  } catch (err) {
    throw new UserError(`${source} holds no readable ${what}: ${errorMessage(err)}`, MAKE_KEY_HINT);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw notEd25519(what, source, key.asymmetricKeyType);
  return key;
}

/** The signing key in a PEM file (--sign-key). */
export function readSigningKeyFile(path: string): SigningKey {
  return parseSigningKey(readSecretFile(path, 'signing key file'), `the signing key file ${path}`);
}

/** The public key in a PEM file (--verify-key). */
export function readVerifyKeyFile(path: string): VerifyKey {
  return parseVerifyKey(readSecretFile(path, 'verify key file'), `the verify key file ${path}`);
}

/** The signature object for `data` (snapshot.json's bytes). */
export function signBytes(data: Buffer, key: SigningKey): Buffer {
  const file: SignatureFile = {
    algorithm: 'ed25519',
    keyFingerprint: key.fingerprint,
    signature: sign(null, data, key.privateKey).toString('base64'),
  };
  return Buffer.from(`${JSON.stringify(file)}\n`);
}

/** A stored signature object, or a string saying why it is not one. */
export function parseSignatureFile(raw: Buffer): SignatureFile | string {
  let data: unknown;
  try {
    data = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    return `not JSON (${errorMessage(err)})`;
  }
  const d = data as Partial<SignatureFile> | null;
  if (typeof d !== 'object' || d === null) return 'not a JSON object';
  if (d.algorithm !== 'ed25519') return `unknown algorithm ${JSON.stringify(d.algorithm)}`;
  if (typeof d.keyFingerprint !== 'string' || !/^SHA256:[0-9a-f]{64}$/.test(d.keyFingerprint))
    return 'no valid keyFingerprint';
  if (typeof d.signature !== 'string' || !/^[A-Za-z0-9+/]{86}==$/.test(d.signature))
    return 'no valid signature';
  return { algorithm: 'ed25519', keyFingerprint: d.keyFingerprint, signature: d.signature };
}

/** Whether `sig` is a valid signature of `data` by `key`. */
export function verifyBytes(data: Buffer, sig: SignatureFile, key: VerifyKey): boolean {
  return verify(null, data, key.publicKey, Buffer.from(sig.signature, 'base64'));
}
