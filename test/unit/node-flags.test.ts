import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LARGE_JOB_FLAG, NODE_FLAGS } from '../../src/node-flags.js';

describe('node flags', () => {
  it('the development launcher starts node with exactly the flags the single executable gets', () => {
    const launcher = readFileSync(
      join(import.meta.dirname, '..', '..', 'bin', 'kubectl-snapshot'),
      'utf8',
    );
    const exec = launcher.split('\n').find((l) => l.startsWith('exec "$node"'));
    expect(exec).toBeDefined();
    const flags = (exec as string).split(' ').filter((w) => w.startsWith('--'));
    expect(flags).toEqual([...NODE_FLAGS]);
  });

  it("the project's Node accepts every flag (V8 flags can be renamed between releases)", () => {
    const node = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'node');
    // The large-job flag too: set at run time, a flag V8 does not know would be ignored.
    const flags = [...NODE_FLAGS, LARGE_JOB_FLAG];
    const out = execFileSync(node, [...flags, '-e', 'process.stdout.write("started")'], {
      encoding: 'utf8',
    });
    expect(out).toBe('started'); // a flag it does not know exits 9: bad option
  });
});
