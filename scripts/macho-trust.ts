// Checks that a Mach-O node binary carries the Node.js Foundation's Developer ID signature
// before its signature is replaced by ours: the pages hash to the CodeDirectory, the
// CodeDirectory names the team, and the CMS signature over the CodeDirectory verifies with a
// chain that ends at Apple's root (pinned by fingerprint) and starts at a Developer ID
// Application certificate of that team. The sha256 pin is the main defence; this shows the
// pinned bytes are what the Node.js project signed, and catches a wrong pin made in haste.
// The CMS part is openssl's (`openssl cms -verify`), run on files in a scratch directory.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMachO, verifyAdhocSignature } from './macho-sign.js';

/** SHA-256 fingerprint of Apple Root CA (the 2006 RSA root that Developer ID chains to). */
export const APPLE_ROOT_CA_SHA256 =
  'B0B1730ECBC7FF4505142C49F1295E6EDA6BCAED7E2C68C5BE91B5A11001F024';
/** Apple's team identifier of the Node.js Foundation, who sign the official macOS binaries. */
export const NODE_TEAM_ID = 'HX7739G8FX';
/** Marks a leaf as a Developer ID Application certificate (Apple's certificate policy). */
const DEVELOPER_ID_APPLICATION_OID = '1.2.840.113635.100.6.1.13';

const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_BLOBWRAPPER = 0xfade0b01;
const CSSLOT_CODEDIRECTORY = 0;
const CSSLOT_SIGNATURESLOT = 0x10000;
const CD_TEAM_VERSION = 0x20200;

export interface DeveloperIdParts {
  /** The CodeDirectory of slot 0: the content the CMS signature signs. */
  codeDirectory: Buffer;
  /** DER CMS SignedData (detached) from the blob wrapper. */
  cms: Buffer;
  teamId: string | undefined;
  identifier: string;
}

function cstring(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.subarray(at, end === -1 ? buf.length : end).toString('latin1');
}

/** Splits an embedded signature into what the chain check needs; throws when it is ad hoc. */
export function developerIdParts(buf: Buffer): DeveloperIdParts {
  const cs = parseMachO(buf).codeSignature;
  if (!cs) throw new Error('the binary is not signed');
  const sig = buf.subarray(cs.dataoff, cs.dataoff + cs.datasize);
  if (sig.readUInt32BE(0) !== CSMAGIC_EMBEDDED_SIGNATURE) throw new Error('bad SuperBlob magic');
  let cd: Buffer | undefined;
  let cms: Buffer | undefined;
  for (let i = 0; i < sig.readUInt32BE(8); i++) {
    const slot = sig.readUInt32BE(12 + i * 8);
    const at = sig.readUInt32BE(16 + i * 8);
    const b = sig.subarray(at, at + sig.readUInt32BE(at + 4));
    if (slot === CSSLOT_CODEDIRECTORY) cd = b;
    if (slot === CSSLOT_SIGNATURESLOT && b.readUInt32BE(0) === CSMAGIC_BLOBWRAPPER)
      cms = b.subarray(8);
  }
  if (!cd) throw new Error('no CodeDirectory');
  if (!cms || cms.length === 0) throw new Error('no CMS signature (an ad-hoc signature)');
  const version = cd.readUInt32BE(8);
  const teamOffset = version >= CD_TEAM_VERSION ? cd.readUInt32BE(48) : 0;
  return {
    codeDirectory: cd,
    cms,
    teamId: teamOffset ? cstring(cd, teamOffset) : undefined,
    identifier: cstring(cd, cd.readUInt32BE(20)),
  };
}

export interface DeveloperIdCheck {
  teamId: string;
  leaf: string;
  signingTime: string;
  pages: number;
}

function openssl(args: string[], input?: Buffer): string {
  try {
    return execFileSync('openssl', args, {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(input ? { input } : {}),
    });
  } catch (err) {
    const e = err as { stderr?: string; code?: string };
    if (e.code === 'ENOENT') throw new Error('openssl is needed to check the macOS signatures');
    throw new Error(`openssl ${args[0]}: ${(e.stderr ?? String(err)).trim().split('\n')[0]}`);
  }
}

function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function fingerprint(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  return createHash('sha256').update(der).digest('hex').toUpperCase();
}

/**
 * Throws unless `buf` is signed by a Developer ID Application certificate of `teamId` that
 * chains to the root with SHA-256 fingerprint `rootSha256`, over a CodeDirectory whose page
 * hashes match the file.
 */
export function verifyDeveloperId(
  buf: Buffer,
  teamId = NODE_TEAM_ID,
  rootSha256 = APPLE_ROOT_CA_SHA256,
): DeveloperIdCheck {
  // Page hashes against the CodeDirectory: the same walk as for our own signatures.
  const { pages } = verifyAdhocSignature(buf);
  const parts = developerIdParts(buf);
  if (parts.teamId !== teamId)
    throw new Error(`the CodeDirectory names team ${parts.teamId ?? '(none)'}, not ${teamId}`);
  const dir = mkdtempSync(join(tmpdir(), 'ks-macho-trust-'));
  try {
    const cmsFile = join(dir, 'sig.der');
    const cdFile = join(dir, 'cd.bin');
    writeFileSync(cmsFile, parts.cms);
    writeFileSync(cdFile, parts.codeDirectory);
    const certs = splitPem(openssl(['pkcs7', '-inform', 'DER', '-in', cmsFile, '-print_certs']));
    // The root is taken from the signature only if it is the pinned one.
    const root = certs.find((c) => fingerprint(c) === rootSha256.toUpperCase());
    if (!root)
      throw new Error(
        `the signature's chain has no certificate with the Apple Root CA fingerprint ${rootSha256}`,
      );
    const rootFile = join(dir, 'root.pem');
    writeFileSync(rootFile, root);
    const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', cmsFile]);
    const when = /signingTime[\s\S]*?UTCTIME:([^\n]+)/.exec(printed)?.[1]?.trim();
    const signedAt = when ? Date.parse(when) : Number.NaN;
    if (Number.isNaN(signedAt)) throw new Error('the CMS signature has no signing time');
    const signerFile = join(dir, 'signer.pem');
    // Developer ID leaves carry Apple's critical policy extensions, which openssl does not
    // know (-ignore_critical); the leaf is checked for them below. The chain is checked at
    // the signing time: the leaf may have expired since, as Apple's own check allows.
    openssl([
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      cmsFile,
      '-content',
      cdFile,
      '-CAfile',
      rootFile,
      '-purpose',
      'any',
      '-ignore_critical',
      '-attime',
      String(Math.floor(signedAt / 1000)),
      '-signer',
      signerFile,
      '-out',
      join(dir, 'out'),
    ]);
    const leaf = openssl(['x509', '-in', signerFile, '-noout', '-subject', '-text']);
    const subject = /^subject=(.*)$/m.exec(leaf)?.[1] ?? '';
    if (!new RegExp(`\\bOU ?= ?${teamId}\\b`).test(subject))
      throw new Error(`the signing certificate is not of team ${teamId}: ${subject}`);
    if (!leaf.includes(DEVELOPER_ID_APPLICATION_OID) || !/Code Signing/.test(leaf))
      throw new Error(`the signing certificate is not a Developer ID Application one: ${subject}`);
    return {
      teamId,
      leaf: /CN ?= ?([^,]+)/.exec(subject)?.[1]?.trim() ?? subject,
      signingTime: new Date(signedAt).toISOString(),
      pages,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
