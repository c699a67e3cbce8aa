// Ad-hoc Mach-O signing for the macOS executables, on a small synthetic Mach-O. (On node's real
// darwin-x64 binary the CodeDirectory was checked byte for byte against rcodesign's ad-hoc
// signature, and verifyAdhocSignature accepts Apple's own signature of node: see
// docs/packaging.md.)
import { describe, expect, it } from 'vitest';
import {
  adhocSign,
  parseMachO,
  removeSignature,
  verifyAdhocSignature,
} from '../../scripts/macho-sign.js';
import { syntheticMachO } from './macho-builder.js';

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
