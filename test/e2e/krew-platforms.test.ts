// The release manifest is valid for every platform it lists, as krew itself judges it: the
// krew binary built for the tests installs each platform's archive with KREW_OS/KREW_ARCH set
// to that platform (krew's own override for its platform detection), so it reads and
// validates the manifest, picks the platform by its selector, checks the archive's sha256
// and lays out `bin` and `files`. Only linux-x64 runs here (test/e2e/krew.test.ts).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtArchive, projectRoot, TARGETS, type TargetId } from '../../scripts/package.js';
import { cluster, tempDir } from './helpers.js';
import { ensurePackaged, manifest } from './packaged.js';

const execFileP = promisify(execFile);
const root = projectRoot();

/** Each target with the krew platform it is for and the first bytes of its executable. */
const PLATFORMS: { id: TargetId; os: string; arch: string; exe: string; magic: string }[] = [
  { id: 'linux-x64', os: 'linux', arch: 'amd64', exe: 'kubectl-snapshot', magic: '7f454c46' },
  { id: 'linux-arm64', os: 'linux', arch: 'arm64', exe: 'kubectl-snapshot', magic: '7f454c46' },
  { id: 'darwin-x64', os: 'darwin', arch: 'amd64', exe: 'kubectl-snapshot', magic: 'cffaedfe' },
  { id: 'darwin-arm64', os: 'darwin', arch: 'arm64', exe: 'kubectl-snapshot', magic: 'cffaedfe' },
  { id: 'win-x64', os: 'windows', arch: 'amd64', exe: 'kubectl-snapshot.exe', magic: '4d5a' },
];

async function krewInstall(os: string, arch: string, archive: string) {
  const krewRoot = tempDir('ks-krew-platform-');
  const env = {
    PATH: '',
    HOME: tempDir('ks-krew-platform-home-'),
    KREW_ROOT: krewRoot,
    KREW_OS: os,
    KREW_ARCH: arch,
    KREW_NO_UPGRADE_CHECK: '1',
  };
  const krew = join(cluster().binDir, 'kubectl-krew');
  try {
    const r = await execFileP(krew, ['install', `--manifest=${manifest}`, `--archive=${archive}`], {
      env,
    });
    return { code: 0, stderr: r.stderr, krewRoot };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? String(err), krewRoot };
  }
}

describe('the krew manifest of a full release', () => {
  beforeAll(async () => {
    await ensurePackaged(TARGETS.map((t) => t.id));
  }, 900_000);

  it('lists every target, darwin/arm64 included', () => {
    expect(PLATFORMS.map((p) => p.id).sort()).toEqual(TARGETS.map((t) => t.id).sort());
    const text = readFileSync(manifest, 'utf8');
    for (const p of PLATFORMS) expect(text).toContain(`kubectl-snapshot-${p.id}.`);
  });

  for (const p of PLATFORMS)
    it(`installs with krew on ${p.os}/${p.arch} (${p.id})`, async () => {
      const r = await krewInstall(p.os, p.arch, builtArchive(p.id, root));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/Installed plugin: snapshot/);
      const installed = join(r.krewRoot, 'store', 'snapshot', 'v0.1.0', p.exe);
      expect(existsSync(join(r.krewRoot, 'store', 'snapshot', 'v0.1.0', 'LICENSE'))).toBe(true);
      expect(readFileSync(installed).subarray(0, 4).toString('hex')).toMatch(
        new RegExp(`^${p.magic}`),
      );
    });

  it('is refused by krew with another platform’s archive (the sha256 is checked)', async () => {
    const r = await krewInstall('darwin', 'arm64', builtArchive('darwin-x64', root));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/sha256|checksum/i);
  });
});
