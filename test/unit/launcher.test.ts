// bin/kubectl-snapshot and the npm scripts' node check (scripts/node-check.sh) on a copy of
// the project with a stand-in build: the project's own node when the `node` package installed
// one, else a node >= 26 on PATH with one notice, else one clear error. PATH holds only the
// few tools the scripts use and the node of each case.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../scripts/package.js';

const root = projectRoot();
const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const node26 = realpathSync(join(root, 'node_modules', '.bin', 'node'));
const TOOLS = ['bash', 'dirname', 'readlink', 'tr', 'grep', 'paste', 'uname', 'cat', 'printf'];

/** A copy of the launcher and the check in a fresh tree; `ownNode` plays the `node` package. */
function project(ownNode: boolean): string {
  const dir = tempDir('ks-launcher-');
  for (const d of ['bin', 'scripts', 'build/src', 'node_modules/.bin'])
    mkdirSync(join(dir, d), { recursive: true });
  for (const f of ['bin/kubectl-snapshot', 'scripts/node-find.sh', 'scripts/node-check.sh'])
    copyFileSync(join(root, f), join(dir, f));
  writeFileSync(
    join(dir, 'build/src/main.js'),
    'console.log("ran " + process.argv.slice(2).join(" ") + " on " + process.version);\n',
  );
  if (ownNode) symlinkSync(node26, join(dir, 'node_modules/.bin/node'));
  return dir;
}

/** A PATH of the tools and, if given, a `node`: the real Node 26 or a script posing as v20. */
function pathWith(node: 'node26' | 'node20' | 'none'): string {
  const dir = tempDir('ks-launcher-path-');
  for (const t of TOOLS)
    symlinkSync(
      execFileSync('bash', ['-c', `command -v ${t}`], { encoding: 'utf8' }).trim(),
      join(dir, t),
    );
  if (node === 'node26') symlinkSync(node26, join(dir, 'node'));
  if (node === 'node20') {
    writeFileSync(
      join(dir, 'node'),
      '#!/bin/sh\ncase "$1" in -p) echo 20 ;; --version) echo v20.20.2 ;; esac\n',
      { mode: 0o755 },
    );
  }
  return dir;
}

function run(file: string, args: string[], PATH: string) {
  const r = spawnSync(file, args, { env: { PATH }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the development launcher', () => {
  it("runs the project's own node, silently, when the node package installed one", () => {
    const dir = project(true);
    const r = run(join(dir, 'bin/kubectl-snapshot'), ['version'], pathWith('node20'));
    expect(r).toEqual({ code: 0, stdout: 'ran version on v26.10.0\n', stderr: '' });
  });

  it('falls back to a node >= 26 on PATH, saying so once', () => {
    const dir = project(false);
    const PATH = pathWith('node26');
    const first = run(join(dir, 'bin/kubectl-snapshot'), ['version'], PATH);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('ran version on v26.10.0\n');
    expect(first.stderr.trim().split('\n')).toHaveLength(1);
    expect(first.stderr).toMatch(
      /using the node on PATH \(.*node, v26\.10\.0\): the npm registry has no Node\.js binary/,
    );
    const second = run(join(dir, 'bin/kubectl-snapshot'), ['version'], PATH);
    expect(second).toEqual({ code: 0, stdout: 'ran version on v26.10.0\n', stderr: '' });
  });

  it('refuses an older node on PATH with one clear message', () => {
    const dir = project(false);
    const r = run(join(dir, 'bin/kubectl-snapshot'), ['version'], pathWith('node20'));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^kubectl-snapshot: needs Node\.js >= 26: .*the node on PATH \(.*\) is v20\.20\.2, older than 26\n$/,
    );
  });

  it('says what to do when there is no node at all', () => {
    const dir = project(false);
    const r = run(join(dir, 'bin/kubectl-snapshot'), ['version'], pathWith('none'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/there is no node on PATH\n$/);
  });
});

describe('the npm scripts’ node check', () => {
  const check = (dir: string, args: string[], PATH: string) =>
    run(join(dir, 'scripts/node-check.sh'), args, PATH);

  it("is silent with the project's own node", () => {
    const dir = project(true);
    expect(check(dir, ['--install'], pathWith('none'))).toEqual({
      code: 0,
      stdout: '',
      stderr: '',
    });
    expect(check(dir, [], pathWith('none'))).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('names the PATH node it falls back to once, at install, and lets scripts run', () => {
    const dir = project(false);
    const PATH = pathWith('node26');
    const install = check(dir, ['--install'], PATH);
    expect(install.code).toBe(0);
    expect(install.stderr).toMatch(
      /^kubectl-snapshot: the npm registry has no Node\.js binary .* use the node on PATH \(.*, v26\.10\.0\)\.\n$/,
    );
    expect(check(dir, [], PATH)).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('does not fail the install on an old node, but stops a script with one message', () => {
    const dir = project(false);
    const PATH = pathWith('node20');
    const install = check(dir, ['--install'], PATH);
    expect(install.code).toBe(0);
    expect(install.stderr).toMatch(
      /^kubectl-snapshot needs Node\.js >= 26: .* is v20\.20\.2, older than 26\. Install Node\.js 26/,
    );
    const script = check(dir, [], PATH);
    expect(script.code).toBe(1);
    expect(script.stderr).toBe(install.stderr);
  });
});
