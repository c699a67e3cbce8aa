import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { jsonPieces, writeData } from '../../src/cli/output.js';

const samples: Record<string, unknown> = {
  'a report': {
    snapshot: 'shop',
    dryRun: undefined,
    results: [
      { resource: 'configmaps', name: 'a', outcome: 'created' },
      { resource: 'secrets', namespace: undefined, name: 'b', diff: [{ path: 'data.x' }] },
    ],
    totals: { created: 1, failed: 0 },
  },
  'empty arrays and objects': { a: [], b: {}, c: [[], {}], d: null },
  'strings with newlines and quotes': { text: 'one\ntwo "three"', list: ['x\ny'] },
  'what JSON cannot hold': { f: () => 1, list: [undefined, () => 1, Symbol('s')], n: Number.NaN },
  'a top-level array': [1, 'two', { three: [3] }, null],
  'a date': { at: new Date(0) },
  'a scalar': 42,
};

describe('JSON output in pieces', () => {
  for (const [what, value] of Object.entries(samples)) {
    it(`prints ${what} exactly as JSON.stringify(…, null, 2)`, () => {
      expect([...jsonPieces(value)].join('')).toBe(JSON.stringify(value, null, 2));
    });
  }

  it('writes a large report in pieces, waiting for the stream to drain', async () => {
    const results = Array.from({ length: 20_000 }, (_, i) => ({
      name: `cm-${i}`,
      outcome: 'created',
    }));
    const chunks: string[] = [];
    const out = new Writable({
      highWaterMark: 1024,
      write(chunk, _enc, cb) {
        chunks.push(String(chunk));
        setImmediate(cb);
      },
    });
    await writeData(out, { results }, 'json');
    expect(chunks.length).toBeGreaterThan(10);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(70_000);
    expect(chunks.join('')).toBe(`${JSON.stringify({ results }, null, 2)}\n`);
  });
});
