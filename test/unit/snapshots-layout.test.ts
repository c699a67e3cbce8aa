import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import {
  ARCHIVE_FILE,
  archiveKey,
  LOCK_FILE,
  lockKey,
  logKey,
  MANIFEST_FILE,
  manifestKey,
  parseKey,
  snapshotNamesFromKeys,
  snapshotPrefix,
} from '../../src/snapshots/layout.js';

describe('snapshot layout', () => {
  it('puts every object of a snapshot under snapshots/<name>/', () => {
    expect(snapshotPrefix('web-1')).toBe('snapshots/web-1/');
    expect(archiveKey('web-1')).toBe('snapshots/web-1/resources.tar.gz');
    expect(logKey('web-1')).toBe('snapshots/web-1/log.jsonl.gz');
    expect(manifestKey('web-1')).toBe('snapshots/web-1/snapshot.json');
    expect(lockKey('web-1')).toBe('snapshots/web-1/.lock');
  });

  it('refuses snapshot names that could escape their directory', () => {
    for (const bad of ['..', '../x', 'a/b', '', 'UPPER', 'x'.repeat(64)]) {
      expect(() => archiveKey(bad)).toThrow(UserError);
    }
  });

  it('parses a snapshot key back into its name and file', () => {
    expect(parseKey(manifestKey('web-1'))).toEqual({ name: 'web-1', file: MANIFEST_FILE });
    expect(parseKey(lockKey('a'))).toEqual({ name: 'a', file: LOCK_FILE });
    expect(parseKey('snapshots/a/sub/dir.txt')).toEqual({ name: 'a', file: 'sub/dir.txt' });
  });

  it('ignores keys that are not a file of a validly named snapshot', () => {
    for (const key of [
      'other/a/snapshot.json',
      'snapshots/',
      'snapshots/a',
      'snapshots/a/',
      'snapshots//snapshot.json',
      'snapshots/Bad_Name/snapshot.json',
    ]) {
      expect(parseKey(key)).toBeUndefined();
    }
  });

  it('lists distinct snapshot names sorted, optionally only those with a given file', () => {
    const keys = [
      archiveKey('b'),
      manifestKey('b'),
      lockKey('a'),
      archiveKey('a'),
      manifestKey('c'),
      'stray.txt',
    ];
    expect(snapshotNamesFromKeys(keys)).toEqual(['a', 'b', 'c']);
    expect(snapshotNamesFromKeys(keys, MANIFEST_FILE)).toEqual(['b', 'c']);
    expect(snapshotNamesFromKeys(keys, ARCHIVE_FILE)).toEqual(['a', 'b']);
  });
});
