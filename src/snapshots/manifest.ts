// snapshot.json as read back from storage: whoever can write the bucket wrote it, so it is
// checked before anything trusts it.
import { errorMessage, UserError } from '../core/errors.js';
import type { SnapshotManifest } from '../core/types.js';

export function parseManifest(raw: Buffer, name: string): SnapshotManifest {
  try {
    const m = JSON.parse(raw.toString('utf8')) as SnapshotManifest;
    if (m.name !== name || typeof m.archive?.sha256 !== 'string')
      throw new Error('fields missing or wrong');
    return m;
  } catch (err) {
    throw new UserError(
      `snapshot.json of "${name}" is damaged: ${errorMessage(err)}`,
      'delete the snapshot or restore it from a copy',
    );
  }
}
