// Ad-hoc Mach-O signing for the macOS executables, on a small synthetic Mach-O. (On node's real
// darwin-x64 binary the CodeDirectory was checked byte for byte against rcodesign's ad-hoc
// signature, and verifyAdhocSignature accepts Apple's own signature of node: see
// docs/packaging.md.)
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  adhocSign,
  parseMachO,
  removeSignature,
  verifyAdhocSignature,
} from '../../scripts/macho-sign.js';

const TEXT_SIZE = 0x4000;
const LINKEDIT_SIZE = 0x120;

function segment(name: string, vmaddr: bigint, vmsize: number, fileoff: number, filesize: number) {
  const b = Buffer.alloc(72);
  b.writeUInt32LE(0x19, 0);
  b.writeUInt32LE(72, 4);
  b.write(name, 8, 'latin1');
  b.writeBigUInt64LE(vmaddr, 24);
  b.writeBigUInt64LE(BigInt(vmsize), 32);
  b.writeBigUInt64LE(BigInt(fileoff), 40);
  b.writeBigUInt64LE(BigInt(filesize), 48);
  b.writeUInt32LE(5, 56);
  b.writeUInt32LE(5, 60);
  return b;
}

/** x86_64 MH_EXECUTE with __TEXT (header + random code) and a small __LINKEDIT. */
function syntheticMachO(): Buffer {
  const file = randomBytes(TEXT_SIZE + LINKEDIT_SIZE);
  const header = Buffer.alloc(32);
  header.writeUInt32LE(0xfeedfacf, 0);
  header.writeUInt32LE(0x01000007, 4);
  header.writeUInt32LE(3, 8);
  header.writeUInt32LE(2, 12);
  header.writeUInt32LE(2, 16);
  header.writeUInt32LE(144, 20);
  const cmds = Buffer.concat([
    segment('__TEXT', 0x100000000n, TEXT_SIZE, 0, TEXT_SIZE),
    segment('__LINKEDIT', 0x100004000n, 0x1000, TEXT_SIZE, LINKEDIT_SIZE),
  ]);
  // Zeroed padding after the load commands, as linkers leave it.
  file.fill(0, 0, 0x1000);
  header.copy(file, 0);
  cmds.copy(file, 32);
  return file;
}

describe('ad-hoc Mach-O signing', () => {
  it('adds LC_CODE_SIGNATURE and a signature covering every page, like codesign --sign -', () => {
    const input = syntheticMachO();
    const signed = adhocSign(input, 'kubectl-snapshot');
    const m = parseMachO(signed);
    expect(m.ncmds).toBe(3);
    expect(m.codeSignature?.dataoff).toBe(input.length);
    expect((m.codeSignature?.dataoff ?? 0) + (m.codeSignature?.datasize ?? 0)).toBe(signed.length);
    const le = m.segments.find((s) => s.name === '__LINKEDIT');
    expect((le?.fileoff ?? 0) + (le?.filesize ?? 0)).toBe(signed.length);
    expect(verifyAdhocSignature(signed)).toEqual({
      identifier: 'kubectl-snapshot',
      flags: 0x2,
      pages: Math.ceil(input.length / 4096),
    });
    // Everything but the header (which now describes the signature) is unchanged.
    expect(signed.subarray(0x1000, input.length).equals(input.subarray(0x1000))).toBe(true);
  });

  it('detects a changed page', () => {
    const signed = adhocSign(syntheticMachO(), 'x');
    signed[0x2345] = (signed[0x2345] as number) ^ 0xff;
    expect(() => verifyAdhocSignature(signed)).toThrow(/page 2 hash mismatch/);
  });

  it('removes a signature, giving back the unsigned file', () => {
    const input = syntheticMachO();
    expect(removeSignature(adhocSign(input, 'x')).equals(input)).toBe(true);
    expect(removeSignature(input)).toBe(input);
  });

  it('re-signing replaces the old signature', () => {
    const input = syntheticMachO();
    const once = adhocSign(input, 'a');
    expect(adhocSign(once, 'a').equals(once)).toBe(true);
    expect(verifyAdhocSignature(adhocSign(once, 'b')).identifier).toBe('b');
  });

  it('refuses what it does not handle', () => {
    const elf = Buffer.from(
      '\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0',
      'latin1',
    );
    expect(() => parseMachO(elf)).toThrow(/not a 64-bit little-endian Mach-O/);
    expect(() => verifyAdhocSignature(syntheticMachO())).toThrow(/not signed/);
  });
});
