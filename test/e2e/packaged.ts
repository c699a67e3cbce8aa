// The release build the krew tests install: rebuilt only when dist/ lacks a wanted target or
// is older than the sources that go into it (a full build takes minutes on two cores).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildPackages,
  builtArchive,
  builtBinary,
  projectRoot,
  type TargetId,
} from '../../scripts/package.js';

const root = projectRoot();
export const manifest = join(root, 'dist', 'krew-manifest.yaml');

/** Newest modification time of the files that go into the package. */
function newestInput(): number {
  let newest = 0;
  const walk = (p: string) => {
    const s = statSync(p);
    if (s.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else newest = Math.max(newest, s.mtimeMs);
  };
  for (const p of ['src', 'scripts', 'package.json', 'krew-manifest.yaml', 'LICENSE'])
    walk(join(root, p));
  return newest;
}

function isCurrent(targets: TargetId[]): boolean {
  const files = [
    manifest,
    ...targets.flatMap((t) => [builtArchive(t, root), builtBinary(t, root)]),
  ];
  if (!files.every((f) => existsSync(f))) return false;
  const newest = newestInput();
  return targets.every((t) => statSync(builtArchive(t, root)).mtimeMs >= newest);
}

/** Builds `targets` (and only them) unless dist/ already holds a current build of each. */
export async function ensurePackaged(targets: TargetId[]): Promise<void> {
  if (isCurrent(targets)) return;
  const lines: string[] = [];
  await buildPackages({ targets, log: (l) => lines.push(l) });
  console.error(`[packaged] built ${targets.join(', ')}:\n  ${lines.join('\n  ')}`);
}
