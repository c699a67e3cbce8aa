// The keys a command encrypts or decrypts with, read from the files its options name when
// it runs (never while parsing flags, so --help and usage errors touch no secret).
import type { DecryptionKey, EncryptionKey } from '../crypto/age.js';
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
