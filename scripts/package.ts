// npm run package [-- --targets linux-x64,win-x64] [--release-url URL]
//
// One executable per platform with Node's single-executable-application mechanism:
//   1. esbuild bundles src/sea-main.ts into one CommonJS file (SEA runs CommonJS only), and a
//      check proves `version`/`--help` evaluate neither the Kubernetes nor the S3 client;
//   2. for each target, the node binary of that platform comes from the npm registry
//      (`npm pack node-<os>-<arch>@<version>`, cached), the SEA blob is made by a host node of
//      the very same version (a blob must be injected into the Node version that made it),
//      with V8's code cache only where the target is the host platform (a code cache is
//      only valid on the platform that made it);
//   3. postject injects the blob; macOS binaries lose node's signature before and get an
//      ad-hoc one after (scripts/macho-sign.ts); the Windows one loses its Authenticode
//      signature, which the injection would invalidate;
//   4. dist/kubectl-snapshot-<target>.tar.gz (.zip for Windows) with the binary and LICENSE,
//      dist/sha256 (sha256sum format) and dist/krew-manifest.yaml with the real checksums.
// The unpacked executables stay in dist/<target>/ for tests and benchmarks.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { pack as tarPack } from 'tar-stream';
import { NODE_FLAGS } from '../src/node-flags.js';
import { DIGEST_WORKER_ASSET } from '../src/restore/digest-pool.js';
import { readTemplate, renderKrewManifest } from './krew-manifest.js';
import { adhocSign, removeSignature, verifyAdhocSignature } from './macho-sign.js';

export type TargetId = 'linux-x64' | 'linux-arm64' | 'darwin-x64' | 'darwin-arm64' | 'win-x64';

export interface Target {
  id: TargetId;
  /** npm registry package holding that platform's node binary. */
  nodePackage: string;
  /** Path of the node binary inside the package tarball. */
  nodeInPackage: string;
  exe: string;
  archive: string;
}

const target = (id: TargetId): Target => {
  const win = id.startsWith('win-');
  return {
    id,
    nodePackage: `node-${id}`,
    nodeInPackage: win ? 'package/bin/node.exe' : 'package/bin/node',
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
/** Packages that must stay lazy: only commands that talk to a cluster or S3 load them. */
const LAZY_PACKAGES = /node_modules\/(@kubernetes\/client-node|minio|undici|openid-client|ws)\//;

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

function cacheDir(): string {
  const base =
    process.env.KUBECTL_SNAPSHOT_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kubectl-snapshot');
  return join(base, 'node');
}

function hostTargetId(): TargetId | undefined {
  const os = process.platform === 'win32' ? 'win' : process.platform;
  const id = `${os}-${process.arch}`;
  return TARGETS.find((t) => t.id === id)?.id;
}

function npm(args: string[], cwd?: string): string {
  return execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

/**
 * The node version to use for a package: `wanted` itself when the registry has it, else the
 * newest release of the same major (a SEA blob only needs the same version as the binary it
 * is injected into, and the blob is made by a host node of that version). Undefined when the
 * registry has no release of that major. Answers are cached so rebuilds ask nothing.
 */
function resolveNodeVersion(
  pkg: string,
  wanted: string,
  log: (l: string) => void,
): string | undefined {
  const dir = cacheDir();
  const cached = join(dir, `${pkg}@${wanted}.resolved`);
  // Re-asked after a day, so a release the registry gains later is picked up.
  if (existsSync(cached) && Date.now() - statSync(cached).mtimeMs < 86_400_000)
    return readFileSync(cached, 'utf8').trim() || undefined;
  let versions: string[] = [];
  try {
    versions = JSON.parse(npm(['view', pkg, 'versions', '--json'])) as string[];
  } catch (err) {
    const msg = (err as { stderr?: string }).stderr ?? String(err);
    if (!/E404|404 Not Found/.test(msg)) throw err;
  }
  const major = wanted.split('.')[0];
  let chosen: string | undefined;
  if (versions.includes(wanted)) chosen = wanted;
  else {
    const same = versions
      .filter((v) => /^\d+\.\d+\.\d+$/.test(v) && v.split('.')[0] === major)
      .sort((a, b) => {
        const [a1, a2, a3] = a.split('.').map(Number) as [number, number, number];
        const [b1, b2, b3] = b.split('.').map(Number) as [number, number, number];
        return a1 - b1 || a2 - b2 || a3 - b3;
      });
    chosen = same.at(-1);
    if (chosen) log(`${pkg}: the registry has no ${wanted}; using ${chosen} (same major)`);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(cached, chosen ?? '');
  return chosen;
}

/** `npm pack`s a node binary package into the cache (once) and returns the binary's path. */
function fetchNode(
  pkg: string,
  version: string,
  inPackage: string,
  log: (l: string) => void,
): string {
  const dir = join(cacheDir(), `${pkg}-${version}`);
  const bin = join(dir, inPackage);
  if (existsSync(bin)) return bin;
  log(`${pkg}@${version}: fetching from the npm registry`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const file = npm(['pack', `${pkg}@${version}`, '--silent', '--pack-destination', tmp], tmp)
    .trim()
    .split('\n')
    .pop() as string;
  execFileSync('tar', ['-xzf', join(tmp, file), '-C', tmp, inPackage]);
  rmSync(join(tmp, file));
  chmodSync(join(tmp, inPackage), 0o755);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return bin;
}

/** esbuild: one CommonJS file; `import.meta.url` (yargs' createRequire) comes from __filename. */
async function bundle(
  root: string,
  work: string,
  minify: boolean,
): Promise<{ file: string; meta: esbuild.Metafile }> {
  const file = join(work, minify ? 'kubectl-snapshot.cjs' : 'kubectl-snapshot.check.cjs');
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['src/sea-main.ts'],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node26',
    format: 'cjs',
    define: { 'import.meta.url': '__ks_import_meta_url' },
    banner: { js: 'var __ks_import_meta_url = require("url").pathToFileURL(__filename).href;' },
    // Minified: a third of the source for V8 to scan at start-up where there is no code
    // cache (every cross-built target). Names are kept for stack traces and for libraries
    // that read constructor names.
    minify,
    keepNames: minify,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  const text = readFileSync(file, 'utf8');
  const realImport = text
    .split('\n')
    .some((l) => !/^\s*(\*|\/\/|\/\*)/.test(l) && /(^|[^\w$.{])import\(/.test(l));
  if (realImport) throw new Error('the bundle has a real import(): SEA code cache cannot run it');
  return { file, meta: result.metafile };
}

/**
 * The lookup worker (src/restore/digest-worker.ts) as one CommonJS file, embedded in the
 * executable as an asset: a single executable has no files to start a worker from, so
 * src/restore/digest-pool.ts starts it from the asset's text.
 */
async function bundleWorker(root: string, work: string): Promise<string> {
  const file = join(work, DIGEST_WORKER_ASSET);
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['src/restore/digest-worker.ts'],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node26',
    format: 'cjs',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return file;
}

/**
 * Proves laziness on the bundle itself: every module of the Kubernetes and S3 clients must be
 * wrapped (evaluated on first use, not at start-up), and running `version` and `--help`
 * must evaluate none of them.
 */
function checkLazy(bundleFile: string, meta: esbuild.Metafile, node: string, work: string): void {
  const text = readFileSync(bundleFile, 'utf8');
  const output = Object.values(meta.outputs)[0];
  const included = Object.entries(output?.inputs ?? {})
    .filter(([, v]) => v.bytesInOutput > 0)
    .map(([k]) => k);
  const heavy = included.filter((p) => LAZY_PACKAGES.test(p));
  if (heavy.length === 0)
    throw new Error('lazy check: the Kubernetes/S3 clients are not in the bundle?');
  const eager = heavy.filter((p) => !text.includes(`${JSON.stringify(p)}(`));
  if (eager.length > 0)
    throw new Error(
      `lazy check: evaluated at start-up (not wrapped): ${eager.slice(0, 5).join(', ')}`,
    );

  // esbuild's lazy-module helpers; their parameter names vary with renaming in the bundle.
  const esm = /var __esm = \((\w+), \w+, \w+\) => function __init\(\) \{/;
  const cjs = /var __commonJS = \((\w+), (\w+)\) => function __require\(\) \{/;
  if (!esm.test(text) || !cjs.test(text))
    throw new Error('lazy check: esbuild runtime helpers changed; update checkLazy');
  const traced = join(work, 'traced.cjs');
  const traceFile = join(work, 'traced.json');
  writeFileSync(
    traced,
    `var __ks_loaded = []; process.on('exit', () => require('fs').writeFileSync(process.env.KS_TRACE, JSON.stringify(__ks_loaded)));\n${text
      .replace(
        esm,
        (m, fn) => `${m} if (${fn}) __ks_loaded.push(Object.getOwnPropertyNames(${fn})[0]);`,
      )
      .replace(
        cjs,
        (m, cb, mod) => `${m} if (!${mod}) __ks_loaded.push(Object.getOwnPropertyNames(${cb})[0]);`,
      )}`,
  );
  for (const args of [['version'], ['--help']]) {
    execFileSync(node, [traced, ...args], {
      env: { ...process.env, KS_TRACE: traceFile },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const loaded = JSON.parse(readFileSync(traceFile, 'utf8')) as string[];
    const bad = loaded.filter((p) => LAZY_PACKAGES.test(p));
    if (bad.length > 0)
      throw new Error(`lazy check: \`${args.join(' ')}\` evaluated ${bad.slice(0, 5).join(', ')}`);
  }
}

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const f = join(dir, cmd);
    if (dir && existsSync(f)) return f;
  }
  return undefined;
}

/**
 * How to run a target's executable here: directly on the host platform; linux-arm64 under
 * qemu-user when it and Debian's arm64 cross libc are installed; otherwise not at all.
 */
function smokeRunner(id: TargetId, host: TargetId, exe: string): string[] | undefined {
  if (id === host) return [exe];
  const sysroot = '/usr/aarch64-linux-gnu';
  const qemu = onPath('qemu-aarch64');
  if (id === 'linux-arm64' && qemu && existsSync(join(sysroot, 'lib', 'ld-linux-aarch64.so.1')))
    return [qemu, '-L', sysroot, exe];
  return undefined;
}

/** Drops a PE file's Authenticode certificate table (postject's injection would void it). */
export function removeAuthenticode(buf: Buffer): Buffer {
  const pe = buf.readUInt32LE(0x3c);
  if (buf.readUInt32LE(pe) !== 0x00004550) throw new Error('not a PE file');
  const opt = pe + 24;
  const magic = buf.readUInt16LE(opt);
  const dirs = opt + (magic === 0x20b ? 112 : 96);
  const security = dirs + 4 * 8;
  const off = buf.readUInt32LE(security);
  const size = buf.readUInt32LE(security + 4);
  if (off === 0 || size === 0) return buf;
  if (off + size !== buf.length)
    throw new Error('the certificate table is not at the end of the file');
  const out = Buffer.from(buf.subarray(0, off));
  out.writeUInt32LE(0, security);
  out.writeUInt32LE(0, security + 4);
  return out;
}

function fixedMtime(): Date {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? 0);
  return new Date((Number.isFinite(epoch) ? epoch : 0) * 1000);
}

interface ArchiveEntry {
  name: string;
  data: Buffer;
  mode: number;
}

async function writeTarGz(file: string, entries: ArchiveEntry[]): Promise<void> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((res, rej) => {
    p.on('end', res);
    p.on('error', rej);
  });
  for (const e of entries)
    p.entry({ name: e.name, mode: e.mode, mtime: fixedMtime(), uid: 0, gid: 0 }, e.data);
  p.finalize();
  await done;
  writeFileSync(file, gzipSync(Buffer.concat(chunks), { level: 9 }));
}

/** A plain (non-zip64) deflate zip: enough for two files under 4 GiB. */
function writeZip(file: string, entries: ArchiveEntry[]): void {
  const d = fixedMtime();
  const year = Math.max(d.getUTCFullYear(), 1980);
  const dosTime = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  const dosDate = ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const packed = deflateRawSync(e.data, { level: 9 });
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, so the mode below is read
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((0o100000 | e.mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  writeFileSync(file, Buffer.concat([...locals, cd, end]));
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
    devDependencies: Record<string, string>;
  };
  const wantedNode = (pkg.devDependencies.node ?? process.versions.node).replace(/^[\^~=v]/, '');
  const host = hostTargetId();
  if (!host)
    throw new Error(`no node package for the host platform ${process.platform}-${process.arch}`);
  const hostTarget = TARGETS.find((t) => t.id === host) as Target;

  const requested = opts.targets?.flatMap((t) => t.split(',')).filter(Boolean);
  for (const id of requested ?? [])
    if (!TARGETS.some((t) => t.id === id))
      throw new Error(`unknown target ${id}; known: ${TARGETS.map((t) => t.id).join(', ')}`);
  const targets = requested ? TARGETS.filter((t) => requested.includes(t.id)) : TARGETS;

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

  const hostVersion = resolveNodeVersion(hostTarget.nodePackage, wantedNode, log);
  if (!hostVersion)
    throw new Error(`the registry has no ${hostTarget.nodePackage} for Node ${wantedNode}`);
  const hostNode = fetchNode(hostTarget.nodePackage, hostVersion, hostTarget.nodeInPackage, log);
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
    const version = resolveNodeVersion(t.nodePackage, wantedNode, log);
    if (!version) {
      const reason = `the npm registry has no ${t.nodePackage} release for Node ${wantedNode.split('.')[0]}`;
      if (requested) throw new Error(reason);
      log(`${t.id}: skipped: ${reason}`);
      skipped.push({ id: t.id, reason });
      continue;
    }
    const base = fetchNode(t.nodePackage, version, t.nodeInPackage, log);
    // The blob must come from a node of the target's exact version; the code cache only
    // where that node is the target's own binary.
    const generator =
      version === hostVersion
        ? hostNode
        : fetchNode(hostTarget.nodePackage, version, hostTarget.nodeInPackage, log);
    const codeCache = t.id === host;
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
    execFileSync(generator, [...NODE_FLAGS, '--experimental-sea-config', seaConfig], {
      stdio: 'pipe',
    });

    const outDir = join(dist, t.id);
    mkdirSync(outDir, { recursive: true });
    const exe = join(outDir, t.exe);
    let bin: Buffer = readFileSync(base);
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
    const runner = smokeRunner(t.id, host, exe);
    if (runner) {
      const [cmd, ...args] = runner as [string, ...string[]];
      const out = execFileSync(cmd, [...args, 'version'], { encoding: 'utf8', env: { PATH: '' } });
      if (!out.includes(`v${pkg.version}`)) throw new Error(`${t.id}: smoke test printed ${out}`);
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
