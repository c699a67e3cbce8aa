// npm run package [-- --targets linux-x64,win-x64] [--release-url URL]
//
// One executable per platform with Node's single-executable-application mechanism:
//   1. esbuild bundles src/sea-main.ts into one CommonJS file (SEA runs CommonJS only), and a
//      check proves `version`/`--help` evaluate neither the Kubernetes nor the S3 client;
//   2. for each target, the node binary of that platform comes from the npm registry
//      (the package and the binary's sha256 pinned in scripts/node-bases.json, fetched with
//      `npm pack` once), the SEA blob is made by the host's node of the very same version (a
//      blob must be injected into the Node version that made it), with V8's code cache only
//      where the target is the host platform (a code cache is only valid on the platform
//      that made it);
//   3. postject injects the blob; macOS binaries have the Node.js Foundation's Developer ID
//      signature checked up to Apple's root (scripts/macho-trust.ts), lose it before the
//      injection and get an ad-hoc one after (scripts/macho-sign.ts); the Windows one loses its Authenticode
//      signature, which the injection would invalidate;
//   4. dist/kubectl-snapshot-<target>.tar.gz (.zip for Windows) with the binary and LICENSE,
//      dist/sha256 (sha256sum format) and dist/krew-manifest.yaml with the real checksums.
// The unpacked executables stay in dist/<target>/ for tests and benchmarks.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NODE_FLAGS } from '../src/node-flags.js';
import { DIGEST_WORKER_ASSET } from '../src/restore/digest-pool.js';
import { type ArchiveEntry, removeAuthenticode, writeTarGz, writeZip } from './archives.js';
import { bundle, bundleWorker, checkLazy } from './bundle.js';
import { readTemplate, renderKrewManifest } from './krew-manifest.js';
import { adhocSign, removeSignature, verifyAdhocSignature } from './macho-sign.js';
import { verifyDeveloperId } from './macho-trust.js';
import { checkBasesVersion, fetchNodeBase, NODE_BASES_FILE, readNodeBases } from './node-bases.js';

export type TargetId = 'linux-x64' | 'linux-arm64' | 'darwin-x64' | 'darwin-arm64' | 'win-x64';

export interface Target {
  id: TargetId;
  exe: string;
  archive: string;
}

const target = (id: TargetId): Target => {
  const win = id.startsWith('win-');
  return {
    id,
    exe: win ? 'kubectl-snapshot.exe' : 'kubectl-snapshot',
    archive: `kubectl-snapshot-${id}.${win ? 'zip' : 'tar.gz'}`,
  };
};

export const TARGETS: Target[] = (
  ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win-x64'] as const
).map(target);

export interface PackageOptions {
  /** Target ids; default: every target whose node binary the registry serves. */
  targets?: string[];
  /** Directory part of the archive URLs in the release manifest. */
  releaseUrl?: string;
  log?: (line: string) => void;
}

export interface BuiltTarget {
  id: TargetId;
  nodeVersion: string;
  /** The registry package the node binary came from. */
  basePackage: string;
  /** Whose signature the base binary carried (macOS: checked up to Apple's root). */
  baseSignature: string;
  codeCache: boolean;
  signature: string;
  /** Whether `version` was run on this machine (natively or under an emulator). */
  smoke: string;
  binary: string;
  binarySize: number;
  archive: string;
  archiveSize: number;
  sha256: string;
}

export interface PackageResult {
  dist: string;
  version: string;
  bundle: string;
  bundleSize: number;
  built: BuiltTarget[];
  skipped: { id: TargetId; reason: string }[];
  manifest: string;
}

const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'krew-manifest.yaml'))) {
    const up = dirname(dir);
    if (up === dir)
      throw new Error('cannot find the project root (package.json + krew-manifest.yaml)');
    dir = up;
  }
  return dir;
}

function hostTargetId(): TargetId | undefined {
  const os = process.platform === 'win32' ? 'win' : process.platform;
  const id = `${os}-${process.arch}`;
  return TARGETS.find((t) => t.id === id)?.id;
}

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const f = join(dir, cmd);
    if (dir && existsSync(f)) return f;
  }
  return undefined;
}

/**
 * How to run a target's binary (its executable, or its base node) here: directly on the host
 * platform; linux-arm64 under qemu-user when it and Debian's arm64 cross libraries are
 * installed (Node 26 also needs libatomic: libatomic1-arm64-cross); otherwise not at all.
 */
function runnerFor(id: TargetId, host: TargetId, file: string): string[] | undefined {
  if (id === host) return [file];
  const sysroot = '/usr/aarch64-linux-gnu';
  const qemu = onPath('qemu-aarch64');
  const libs = ['ld-linux-aarch64.so.1', 'libstdc++.so.6', 'libatomic.so.1'];
  if (id === 'linux-arm64' && qemu && libs.every((l) => existsSync(join(sysroot, 'lib', l))))
    return [qemu, '-L', sysroot, file];
  return undefined;
}

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export async function buildPackages(opts: PackageOptions = {}): Promise<PackageResult> {
  const log = opts.log ?? ((l: string) => console.error(`[package] ${l}`));
  const root = projectRoot();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version: string;
    optionalDependencies: Record<string, string>;
  };
  const bases = readNodeBases(root);
  checkBasesVersion(bases, pkg.optionalDependencies.node ?? process.versions.node);
  const version = bases.version;
  const host = hostTargetId();
  if (!host)
    throw new Error(`no node package for the host platform ${process.platform}-${process.arch}`);
  const hostBase = bases.targets[host];
  if (!hostBase) throw new Error(`${NODE_BASES_FILE} pins no node for the host ${host}`);

  const requested = opts.targets?.flatMap((t) => t.split(',')).filter(Boolean);
  for (const id of requested ?? [])
    if (!TARGETS.some((t) => t.id === id))
      throw new Error(`unknown target ${id}; known: ${TARGETS.map((t) => t.id).join(', ')}`);
  const targets = requested ? TARGETS.filter((t) => requested.includes(t.id)) : TARGETS;

  // Every base is fetched and checked against its pin before dist/ is emptied: a changed
  // upstream binary stops the build and leaves the previous build in place.
  for (const t of targets) {
    const pinned = bases.targets[t.id];
    if (pinned) fetchNodeBase(pinned, version, log);
  }

  const dist = join(root, 'dist');
  rmSync(dist, { recursive: true, force: true });
  const work = join(dist, '.work');
  mkdirSync(work, { recursive: true });

  const started = Date.now();
  const { file: bundleFile } = await bundle(root, work, true);
  // The laziness check reads esbuild's module wrappers, so it runs on an unminified twin
  // (same modules, same wrapping).
  const check = await bundle(root, work, false);
  const workerFile = await bundleWorker(root, work);
  const bundleSize = statSync(bundleFile).size;
  log(`bundle: ${mib(bundleSize)} in ${Date.now() - started} ms`);

  // The blob is made by the host's own pinned node: a blob must be made by the very Node
  // version it is injected into, and every base is pinned at that one version.
  const hostNode = fetchNodeBase(hostBase, version, log);
  checkLazy(check.file, check.meta, hostNode, work);
  log('lazy check: `version` and `--help` load neither the Kubernetes nor the S3 client');

  const { inject } = createRequire(import.meta.url)('postject') as {
    inject: (
      file: string,
      name: string,
      data: Buffer,
      o: { sentinelFuse: string; machoSegmentName?: string; overwrite?: boolean },
    ) => Promise<void>;
  };
  const license = readFileSync(join(root, 'LICENSE'));
  const built: BuiltTarget[] = [];
  const skipped: PackageResult['skipped'] = [];

  for (const t of targets) {
    const t0 = Date.now();
    const pinned = bases.targets[t.id];
    if (!pinned) {
      const reason = `${NODE_BASES_FILE} pins no node binary for ${t.id}`;
      if (requested) throw new Error(reason);
      log(`${t.id}: skipped: ${reason}`);
      skipped.push({ id: t.id, reason });
      continue;
    }
    const base = fetchNodeBase(pinned, version, log);
    let bin: Buffer = readFileSync(base);
    let baseSignature = 'not checked';
    if (t.id.startsWith('darwin-')) {
      // Before our signature replaces it: the pinned bytes are what the Node.js Foundation
      // signed (scripts/macho-trust.ts).
      const d = verifyDeveloperId(bin);
      baseSignature = `${d.leaf}, signed ${d.signingTime.slice(0, 10)}`;
      log(`${t.id}: ${pinned.package} is signed by ${baseSignature}, chained to Apple Root CA`);
    }
    // A code cache is only valid for the V8 that made it, so the blob is made by the
    // target's own node where it can run here (natively, or linux-arm64 under qemu: slow,
    // but once per build); elsewhere the host's node makes it without a code cache.
    const ownRunner = runnerFor(t.id, host, base);
    const [generator, ...generatorArgs] = (ownRunner ?? [hostNode]) as [string, ...string[]];
    const codeCache = ownRunner !== undefined;
    const blob = join(work, `${t.id}.blob`);
    const seaConfig = join(work, `${t.id}.sea.json`);
    writeFileSync(
      seaConfig,
      JSON.stringify({
        main: bundleFile,
        output: blob,
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        useCodeCache: codeCache,
        execArgv: NODE_FLAGS,
        assets: { [DIGEST_WORKER_ASSET]: workerFile },
      }),
    );
    // The code cache records the V8 flags it was made under; the executable runs with
    // NODE_FLAGS, and V8 rejects (with a warning on stderr) a cache made under other flags.
    execFileSync(
      generator,
      [...generatorArgs, ...NODE_FLAGS, '--experimental-sea-config', seaConfig],
      {
        stdio: 'pipe',
      },
    );

    const outDir = join(dist, t.id);
    mkdirSync(outDir, { recursive: true });
    const exe = join(outDir, t.exe);
    let signature = 'none';
    if (t.id.startsWith('darwin-')) bin = removeSignature(bin);
    if (t.id.startsWith('win-')) bin = removeAuthenticode(bin);
    writeFileSync(exe, bin);
    // LIEF (inside postject) warns about ELF note sections it cannot name: harmless noise.
    const warn = console.warn;
    console.warn = (...a: unknown[]) => {
      if (!/Can't find string offset for section name/.test(String(a[0]))) warn(...a);
    };
    try {
      await inject(exe, 'NODE_SEA_BLOB', readFileSync(blob), {
        sentinelFuse: SENTINEL_FUSE,
        ...(t.id.startsWith('darwin-') ? { machoSegmentName: 'NODE_SEA' } : {}),
      });
    } finally {
      console.warn = warn;
    }
    if (t.id.startsWith('darwin-')) {
      const signed = adhocSign(readFileSync(exe), 'kubectl-snapshot');
      verifyAdhocSignature(signed);
      writeFileSync(exe, signed);
      signature = 'ad-hoc';
    }
    chmodSync(exe, 0o755);

    let smoke = 'not run here';
    const runner = runnerFor(t.id, host, exe);
    if (runner) {
      const [cmd, ...args] = runner as [string, ...string[]];
      const r = spawnSync(cmd, [...args, 'version'], { encoding: 'utf8', env: { PATH: '' } });
      if (r.status !== 0 || !r.stdout.includes(`v${pkg.version}`))
        throw new Error(`${t.id}: smoke test exited ${r.status}: ${r.stdout}${r.stderr}`);
      // V8 says on stderr when it rejects a code cache (made by another V8 or other flags).
      if (r.stderr) throw new Error(`${t.id}: smoke test wrote to stderr: ${r.stderr}`);
      smoke = cmd === exe ? 'ran' : `ran under ${basename(cmd)}`;
    }

    const archive = join(dist, t.archive);
    const entries: ArchiveEntry[] = [
      { name: t.exe, data: readFileSync(exe), mode: 0o755 },
      { name: 'LICENSE', data: license, mode: 0o644 },
    ];
    if (t.archive.endsWith('.zip')) writeZip(archive, entries);
    else await writeTarGz(archive, entries);
    const b: BuiltTarget = {
      id: t.id,
      nodeVersion: version,
      basePackage: pinned.package,
      baseSignature,
      codeCache,
      signature,
      smoke,
      binary: exe,
      binarySize: statSync(exe).size,
      archive,
      archiveSize: statSync(archive).size,
      sha256: sha256File(archive),
    };
    built.push(b);
    log(
      `${t.id}: node ${version}, binary ${mib(b.binarySize)}, ${t.archive} ${mib(b.archiveSize)}, code cache ${codeCache ? 'on' : 'off'}, signature ${signature}, smoke test ${smoke} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
  if (built.length === 0) throw new Error('nothing was built');

  writeFileSync(
    join(dist, 'sha256'),
    built.map((b) => `${b.sha256}  ${b.archive.slice(dist.length + 1)}\n`).join(''),
  );
  const manifest = join(dist, 'krew-manifest.yaml');
  writeFileSync(
    manifest,
    renderKrewManifest(readTemplate(root), {
      version: pkg.version,
      checksums: Object.fromEntries(built.map((b) => [b.archive.slice(dist.length + 1), b.sha256])),
      ...(opts.releaseUrl ? { baseUrl: opts.releaseUrl } : {}),
    }),
  );
  for (const f of readdirSync(work)) if (f.endsWith('.blob')) rmSync(join(work, f));
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${dist}`);
  return { dist, version: pkg.version, bundle: bundleFile, bundleSize, built, skipped, manifest };
}

/** Where a target's executable is after a build (whether or not it exists yet). */
export function builtBinary(id: TargetId, root = projectRoot()): string {
  const t = TARGETS.find((x) => x.id === id) as Target;
  return join(root, 'dist', t.id, t.exe);
}

export function builtArchive(id: TargetId, root = projectRoot()): string {
  const t = TARGETS.find((x) => x.id === id) as Target;
  return join(root, 'dist', t.archive);
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      targets: { type: 'string', multiple: true },
      'release-url': { type: 'string' },
    },
  });
  const result = await buildPackages({
    ...(values.targets ? { targets: values.targets } : {}),
    ...(values['release-url'] ? { releaseUrl: values['release-url'] } : {}),
  });
  const rows = result.built.map((b) => [
    b.id,
    `node ${b.nodeVersion}`,
    mib(b.binarySize),
    b.archive.slice(result.dist.length + 1),
    mib(b.archiveSize),
    b.signature,
    b.smoke,
  ]);
  const widths =
    rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length))) ?? [];
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i] as number)).join('  '));
  for (const s of result.skipped) console.log(`${s.id}: skipped (${s.reason})`);
  console.log(`bundle ${mib(result.bundleSize)}; sha256 and krew-manifest.yaml in ${result.dist}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli().catch((err: unknown) => {
    console.error(`package: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
