// The release krew manifest, rendered from the top-level template with fake checksums, must
// pass krew's own rules: sigs.k8s.io/krew internal/index/validation (ValidatePlugin) and the
// extra checks of cmd/validate-krew-manifest that krew-index runs on every submission.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import {
  archiveNameOf,
  type KrewPlatform,
  type KrewPlugin,
  renderKrewManifest,
} from '../../scripts/krew-manifest.js';
import { TARGETS } from '../../scripts/package.js';

const root = join(import.meta.dirname, '..', '..');
const template = readFileSync(join(root, 'krew-manifest.yaml'), 'utf8');
const version = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
).version;

const fakeSum = (seed: string) =>
  Array.from(
    { length: 64 },
    (_, i) => '0123456789abcdef'[(seed.charCodeAt(i % seed.length) + i) % 16],
  ).join('');
const allSums = Object.fromEntries(TARGETS.map((t) => [t.archive, fakeSum(t.id)]));

// krew validate.go
const API_VERSION = 'krew.googlecontainertools.github.com/v1alpha2';
const SAFE_NAME = /^[\w-]+$/;
const WINDOWS_FORBIDDEN = [
  'CON',
  'PRN',
  'AUX',
  'NUL',
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((n) => [`COM${n}`, `LPT${n}`]),
];
const SHA256 = /^[a-f0-9]{64}$/;
// k8s.io/apimachinery/pkg/util/version ParseSemantic, after krew's own leading-"v" check.
const SEMVER =
  /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
// cmd/validate-krew-manifest allPlatforms()
const SUPPORTED: [string, string][] = [
  ['windows', '386'],
  ['windows', 'amd64'],
  ['windows', 'arm64'],
  ['linux', '386'],
  ['linux', 'amd64'],
  ['linux', 'arm'],
  ['linux', 'arm64'],
  ['linux', 'ppc64le'],
  ['darwin', '386'],
  ['darwin', 'amd64'],
  ['darwin', 'arm64'],
];

type Selector = KrewPlatform['selector'];

function selectorMatches(sel: Selector, os: string, arch: string): boolean {
  const labels: Record<string, string> = { os, arch };
  if (sel.matchExpressions?.length) throw new Error('matchExpressions are not used here');
  return Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

function lineLengthOk(s: string | undefined, max: number): boolean {
  return (s ?? '').split('\n').every((l) => l.length <= max || !l.trim().includes(' '));
}

/** Every rule krew applies to a manifest; returns the problems found (none = valid). */
function krewProblems(p: KrewPlugin, fileName = 'snapshot.yaml'): string[] {
  const out: string[] = [];
  const name = fileName.replace(/\.yaml$/, '');
  if (p.apiVersion !== API_VERSION) out.push(`apiVersion ${p.apiVersion}`);
  if (p.kind !== 'Plugin') out.push(`kind ${p.kind}`);
  if (!SAFE_NAME.test(name) || WINDOWS_FORBIDDEN.includes(name.toUpperCase()))
    out.push(`unsafe name ${name}`);
  if (p.metadata?.name !== name) out.push(`named ${p.metadata?.name}, file says ${name}`);
  const s = p.spec;
  if (!s.shortDescription) out.push('no shortDescription');
  if (/[\r\n]/.test(s.shortDescription ?? '')) out.push('line break in shortDescription');
  if (!lineLengthOk(s.shortDescription, 70)) out.push('shortDescription longer than 70');
  if (!lineLengthOk(s.description, 80)) out.push('description line longer than 80');
  if (!lineLengthOk(s.caveats, 80)) out.push('caveats line longer than 80');
  if (!s.platforms?.length) out.push('no platforms');
  if (!s.version) out.push('no version');
  else if (!SEMVER.test(s.version)) out.push(`version ${s.version} is not semver with a leading v`);
  for (const [i, pl] of (s.platforms ?? []).entries()) {
    const at = `platforms[${i}]`;
    if (!pl.uri) out.push(`${at}: no uri`);
    if (!pl.sha256) out.push(`${at}: no sha256`);
    else if (!SHA256.test(pl.sha256)) out.push(`${at}: sha256 ${pl.sha256} invalid`);
    if (!pl.bin) out.push(`${at}: no bin`);
    if (pl.files !== undefined) {
      if (pl.files.length === 0) out.push(`${at}: files empty`);
      for (const f of pl.files) {
        if (!f.from) out.push(`${at}: file without from`);
        else if (!f.to) out.push(`${at}: file without to`);
        // krew's move refuses targets outside the plugin's directory.
        if (f.to?.split('/').includes('..') || f.to?.startsWith('/'))
          out.push(`${at}: file target ${f.to} escapes`);
      }
    }
    const sel = pl.selector;
    if (!sel) out.push(`${at}: nil selector`);
    else {
      if (!sel.matchLabels && !sel.matchExpressions?.length) out.push(`${at}: empty selector`);
      for (const k of Object.keys(sel.matchLabels ?? {}))
        if (k !== 'os' && k !== 'arch') out.push(`${at}: selector key ${k}`);
      if (sel.matchLabels && Object.keys(sel.matchLabels).length === 0)
        out.push(`${at}: matchLabels empty`);
      if (!SUPPORTED.some(([os, arch]) => selectorMatches(sel, os, arch)))
        out.push(`${at}: selector matches no supported platform`);
    }
  }
  for (const [os, arch] of SUPPORTED) {
    const n = (s.platforms ?? []).filter(
      (pl) => pl.selector && selectorMatches(pl.selector, os, arch),
    );
    if (n.length > 1) out.push(`overlapping selectors for ${os}/${arch}`);
  }
  return out;
}

const render = (checksums: Record<string, string>) =>
  yaml.load(renderKrewManifest(template, { version, checksums })) as KrewPlugin;

describe('krew manifest', () => {
  it('renders a manifest that passes every krew rule, one platform per archive', () => {
    const m = render(allSums);
    expect(krewProblems(m)).toEqual([]);
    expect(m.metadata.name).toBe('snapshot');
    expect(m.spec.version).toBe(`v${version}`);
    expect(m.spec.platforms.map((p) => archiveNameOf(p.uri)).sort()).toEqual(
      TARGETS.map((t) => t.archive).sort(),
    );
    for (const p of m.spec.platforms) {
      expect(p.sha256).toBe(allSums[archiveNameOf(p.uri)]);
      expect(p.uri).toContain(`/v${version}/`);
    }
  });

  it('maps each archive to the right selector, binary and files', () => {
    const m = render(allSums);
    const goArch = { x64: 'amd64', arm64: 'arm64' } as Record<string, string>;
    for (const t of TARGETS) {
      const p = m.spec.platforms.find((x) => archiveNameOf(x.uri) === t.archive);
      const [os, arch] = t.id.split('-') as [string, string];
      expect(p?.selector.matchLabels).toEqual({
        os: os === 'win' ? 'windows' : os,
        arch: goArch[arch],
      });
      expect(p?.bin).toBe(t.exe);
      expect(p?.files).toEqual([
        { from: t.exe, to: '.' },
        { from: 'LICENSE', to: '.' },
      ]);
    }
  });

  it('leaves out platforms that were not built and lower-cases checksums', () => {
    const sum = fakeSum('x').toUpperCase();
    const m = render({ 'kubectl-snapshot-linux-x64.tar.gz': sum });
    expect(m.spec.platforms).toHaveLength(1);
    expect(m.spec.platforms[0]?.sha256).toBe(sum.toLowerCase());
    expect(krewProblems(m)).toEqual([]);
  });

  it('refuses to render a manifest without any platform', () => {
    expect(() => render({})).toThrow(/no platform/);
  });

  it('can point the archives at another release URL', () => {
    const text = renderKrewManifest(template, {
      version,
      checksums: allSums,
      baseUrl: 'https://example.test/releases/',
    });
    const m = yaml.load(text) as KrewPlugin;
    expect(m.spec.platforms[0]?.uri).toMatch(
      /^https:\/\/example\.test\/releases\/kubectl-snapshot-/,
    );
    expect(krewProblems(m)).toEqual([]);
  });

  it('the rules catch what krew would refuse', () => {
    const good = render(allSums);
    const bad = (f: (m: KrewPlugin) => void) => {
      const m = structuredClone(good);
      f(m);
      return krewProblems(m);
    };
    expect(
      bad((m) => {
        m.spec.version = '0.1.0';
      }),
    ).toEqual([expect.stringMatching(/leading v/)]);
    expect(
      bad((m) => {
        (m.spec.platforms[0] as KrewPlatform).sha256 = 'ABC';
      }),
    ).toEqual([expect.stringMatching(/sha256 ABC invalid/)]);
    expect(
      bad((m) => {
        m.spec.shortDescription = 'a\nb';
      }),
    ).toContain('line break in shortDescription');
    expect(
      bad((m) => {
        m.spec.platforms = [];
      }),
    ).toContain('no platforms');
    expect(
      bad((m) => {
        m.spec.platforms.push(structuredClone(m.spec.platforms[0] as KrewPlatform));
      }),
    ).toEqual([expect.stringMatching(/overlapping/)]);
    expect(
      bad((m) => {
        (m.spec.platforms[0] as KrewPlatform).selector = { matchLabels: { os: 'plan9' } };
      }),
    ).toEqual([expect.stringMatching(/no supported platform/)]);
    expect(krewProblems(good, 'other.yaml')).toEqual([expect.stringMatching(/named snapshot/)]);
  });
});
