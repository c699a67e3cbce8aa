// `verify`: re-reads a snapshot's archive and checks it against its snapshot.json.
import { CorruptArchiveError } from '../core/errors.js';
import type { SnapshotManifest } from '../core/types.js';
import type { DecryptionKey } from '../crypto/age.js';
import { checkArchiveKey, readCheckedArchive } from './contents.js';
import { DamagedManifestError } from './manifest.js';
import { NO_KEY, type SnapshotRepository } from './repository.js';

export interface VerifyResult {
  name: string;
  ok: boolean;
  entries: number;
  objects: number;
  /** False for an encrypted snapshot verified without its key: only stored bytes checked. */
  contentsChecked: boolean;
  /**
   * False for a Velero backup: Velero records no checksum, so only its objects (against its
   * resource list) were checked, not the stored bytes against a recorded hash.
   */
  checksumRecorded: boolean;
  problems: string[];
}

/**
 * Re-reads the archive: size and sha256 of the stored bytes as recorded, and (when readable)
 * the checks restore and diff make (snapshots/contents.ts). A damaged snapshot.json or
 * archive is a problem reported, not an error thrown.
 */
export async function verifySnapshot(
  repo: SnapshotRepository,
  name: string,
  key: DecryptionKey = NO_KEY,
): Promise<VerifyResult> {
  const problems: string[] = [];
  const result = (contentsChecked: boolean, entries = 0, objects = 0): VerifyResult => ({
    name,
    ok: problems.length === 0,
    entries,
    objects,
    contentsChecked,
    checksumRecorded: repo.foreignArchive === undefined,
    problems,
  });
  const corrupt = (err: unknown) => {
    if (!(err instanceof CorruptArchiveError) && !(err instanceof DamagedManifestError)) throw err;
    problems.push(err.message);
  };
  let m: SnapshotManifest;
  try {
    m = await repo.readManifest(name);
    if (!repo.foreignArchive) checkArchiveKey(m);
  } catch (err) {
    corrupt(err);
    return result(false);
  }
  const hasKey = key.identities.length > 0 || key.passphrases.length > 0;
  if (m.archive.encrypted && !hasKey) {
    const raw = await repo.openArchive({ ...m, archive: { ...m.archive, encrypted: false } });
    raw.stream.resume();
    await raw.checkIntegrity().catch(corrupt);
    return result(false);
  }
  try {
    const { entries, objects } = await readCheckedArchive(repo, m, key);
    return result(true, entries, objects);
  } catch (err) {
    corrupt(err);
    return result(true);
  }
}
