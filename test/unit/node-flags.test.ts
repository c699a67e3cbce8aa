import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../../src/node-flags.js';

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
});
