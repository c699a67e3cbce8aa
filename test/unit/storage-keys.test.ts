import { describe, expect, it } from 'vitest';
import { assertValidKey } from '../../src/storage/keys.js';

describe('storage keys', () => {
  it('accepts ordinary relative keys and rejects ones that could escape a root', () => {
    expect(() => assertValidKey('snapshots/a/snapshot.json')).not.toThrow();
    for (const bad of ['', '/abs', '../x', 'a/../b', 'a/./b', 'a//b', 'a/', 'a\\b', 'a\u0000b']) {
      expect(() => assertValidKey(bad), bad).toThrow(/invalid storage key/);
    }
  });

  it('accepts list prefixes with a trailing slash or empty, still rejecting ..', () => {
    expect(() => assertValidKey('', true)).not.toThrow();
    expect(() => assertValidKey('snapshots/', true)).not.toThrow();
    expect(() => assertValidKey('snapshots/a', true)).not.toThrow();
    expect(() => assertValidKey('../', true)).toThrow();
    expect(() => assertValidKey('/', true)).toThrow();
  });
});
