// Encryption at rest in the age format (age-encryption.org/v1), so archives decrypt with the
// standard `age` tool too. Only public recipients are needed to encrypt: a machine that makes
// backups (a CronJob) cannot read old ones.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { errorMessage, UserError } from '../core/errors.js';

/** How a backup encrypts: to public recipients, or with a passphrase. */
export type EncryptionKey = { recipients: string[] } | { passphrase: string };

/** What a restore decrypts with: identities (secret keys) and/or passphrases. */
export interface DecryptionKey {
  identities: string[];
  passphrases: string[];
}

const RECIPIENT = /^age1[0-9a-z]{58}$/;

export function validateRecipient(r: string): string {
  const v = r.trim();
  if (!RECIPIENT.test(v)) {
    throw new UserError(
      `invalid age recipient "${v.slice(0, 20)}${v.length > 20 ? '…' : ''}"`,
      'pass an X25519 public key (age1…), e.g. from: age-keygen -y key.txt',
    );
  }
  return v;
}

/** A key file's text; a file that cannot be read is a UserError naming it. */
export function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${what} ${path}: ${errorMessage(err)}`);
  }
}

/** A passphrase file holds the passphrase on its first line. */
export function readPassphraseFile(path: string): string {
  const pass = readSecretFile(path, 'passphrase file').split(/\r?\n/)[0] ?? '';
  if (pass.length < 8)
    throw new UserError(
      `the passphrase in ${path} is shorter than 8 characters`,
      'use a long random passphrase',
    );
  return pass;
}

/** An age identity file: AGE-SECRET-KEY-1… lines; `#` comments and blank lines ignored. */
export function readIdentityFile(path: string): string[] {
  const keys = readSecretFile(path, 'identity file')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (keys.length === 0 || !keys.every((k) => k.startsWith('AGE-SECRET-KEY-'))) {
    throw new UserError(
      `${path} is not an age identity file`,
      'it must hold AGE-SECRET-KEY-1… lines, as written by age-keygen',
    );
  }
  return keys;
}

export async function encryptStream(input: Readable, key: EncryptionKey): Promise<Readable> {
  const { Encrypter } = await import('age-encryption');
  const e = new Encrypter();
  if ('passphrase' in key) e.setPassphrase(key.passphrase);
  else for (const r of key.recipients) e.addRecipient(r);
  const out = await e.encrypt(Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>);
  return Readable.fromWeb(out as unknown as WebReadableStream<Uint8Array>);
}

export async function encryptBuffer(data: Buffer, key: EncryptionKey): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await encryptStream(Readable.from([data]), key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Decrypts; a wrong or missing key is a UserError before any plaintext is produced. */
export async function decryptStream(
  input: Readable,
  key: DecryptionKey,
  what: string,
): Promise<Readable> {
  if (key.identities.length === 0 && key.passphrases.length === 0) {
    input.destroy();
    throw new UserError(
      `${what} is encrypted and no key was given`,
      'pass --identity-file FILE (or set KUBECTL_SNAPSHOT_IDENTITY_FILE), or --passphrase-file FILE',
    );
  }
  const { Decrypter } = await import('age-encryption');
  const d = new Decrypter();
  for (const i of key.identities) d.addIdentity(i);
  for (const p of key.passphrases) d.addPassphrase(p);
  try {
    const out = await d.decrypt(Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>);
    return Readable.fromWeb(out as unknown as WebReadableStream<Uint8Array>);
  } catch (err) {
    input.destroy();
    throw new UserError(
      `cannot decrypt ${what}: ${errorMessage(err)}`,
      'use the identity (or passphrase) the snapshot was encrypted for',
    );
  }
}
