// The keys a command encrypts or decrypts with, read from the files its options name when
// it runs (never while parsing flags, so --help and usage errors touch no secret).
import { UserError } from '../core/errors.js';
import type { DecryptionKey, EncryptionKey } from '../crypto/age.js';
import type { SigningKey, VerifyKey } from '../crypto/sign.js';
import type { SnapshotRepository } from '../snapshots/repository.js';
import type { EncryptionSpec, KeyFiles } from './flags.js';

/** Reads the decryption keys named by --identity-file (or its variable) and --passphrase-file. */
export async function readKeys(files: KeyFiles): Promise<DecryptionKey> {
  const { readIdentityFile, readPassphraseFile } = await import('../crypto/age.js');
  return {
    identities: files.identityFile ? readIdentityFile(files.identityFile) : [],
    passphrases: files.passphraseFile ? [readPassphraseFile(files.passphraseFile)] : [],
  };
}

/** The key a backup encrypts with: recipients as given, a passphrase read from its file. */
export async function readEncryption(
  spec: EncryptionSpec | undefined,
): Promise<EncryptionKey | undefined> {
  if (!spec || 'recipients' in spec) return spec;
  const { readPassphraseFile } = await import('../crypto/age.js');
  return { passphrase: readPassphraseFile(spec.passphraseFile) };
}

/** What a signature check needs from where the snapshots are. */
interface SignedLocation {
  name?: string;
  verifyKey?: string;
}

/** The key snapshots must be signed by: --verify-key, else the named location's. */
export async function readVerifyKey(
  files: KeyFiles,
  location: SignedLocation,
): Promise<VerifyKey | undefined> {
  const { parseVerifyKey, readVerifyKeyFile } = await import('../crypto/sign.js');
  if (files.verifyKeyFile) return readVerifyKeyFile(files.verifyKeyFile);
  if (location.verifyKey === undefined) return undefined;
  return parseVerifyKey(location.verifyKey, `the verify key of ${where(location)}`);
}

/**
 * The repository restore, diff and verify read through: with a verify key (the flag's or the
 * location's) every snapshot.json must be signed by it, checked before the archive is read.
 */
export async function verifiedRepository(
  snapshots: SnapshotRepository,
  location: SignedLocation,
  files: KeyFiles,
): Promise<{ snapshots: SnapshotRepository; verifyKey?: VerifyKey }> {
  const verifyKey = await readVerifyKey(files, location);
  return verifyKey
    ? { snapshots: snapshots.requiringSignature(verifyKey), verifyKey }
    : { snapshots };
}

/** The key --sign-key names, read before anything is connected to. */
export async function readSigningKey(file: string | undefined): Promise<SigningKey | undefined> {
  if (!file) return undefined;
  const { readSigningKeyFile } = await import('../crypto/sign.js');
  return readSigningKeyFile(file);
}

/**
 * The repository a backup writes through: signing with `signing`. A location that requires
 * signatures refuses a backup without it, or signed by a key it would not accept.
 */
export async function signingRepository(
  snapshots: SnapshotRepository,
  location: SignedLocation,
  signing: SigningKey | undefined,
): Promise<SnapshotRepository> {
  await checkSigningKey(signing, location);
  return signing ? snapshots.signingWith(signing) : snapshots;
}

/** Refuses an unsigned backup, or one signed by another key, to a location that requires one. */
export async function checkSigningKey(
  signing: SigningKey | undefined,
  location: SignedLocation,
): Promise<void> {
  const required = await readVerifyKey({}, location);
  if (!required) return;
  if (!signing) {
    throw new UserError(
      `${where(location)} requires signed snapshots (signed by ${required.fingerprint})`,
      'add --sign-key FILE: the Ed25519 private key (PEM) whose public key the location was added with',
    );
  }
  if (signing.fingerprint !== required.fingerprint) {
    throw new UserError(
      `${where(location)} accepts snapshots signed by ${required.fingerprint}, and --sign-key is ${signing.fingerprint}`,
      'sign with the private key of the public key the location was added with (location add … --verify-key)',
    );
  }
}

const where = (l: SignedLocation) =>
  l.name !== undefined ? `storage location "${l.name}"` : 'the storage location';
