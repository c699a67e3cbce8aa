// The CLI bundled for a single executable: one minified CommonJS file (SEA runs CommonJS
// only), the restore's lookup worker bundled on its own, and the check that `version` and
// `--help` evaluate neither the Kubernetes nor the S3 client.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { DIGEST_WORKER_ASSET } from '../src/restore/digest-pool.js';

/** Packages that must stay lazy: only commands that talk to a cluster or S3 load them. */
const LAZY_PACKAGES = /node_modules\/(@kubernetes\/client-node|minio|undici|openid-client|ws)\//;

/** esbuild: one CommonJS file; `import.meta.url` (yargs' createRequire) comes from __filename. */
export async function bundle(
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
export async function bundleWorker(root: string, work: string): Promise<string> {
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
export function checkLazy(
  bundleFile: string,
  meta: esbuild.Metafile,
  node: string,
  work: string,
): void {
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
