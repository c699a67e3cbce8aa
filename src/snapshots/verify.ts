// `verify`: re-reads a snapshot's archive and checks it against its snapshot.json.
import { parseObjectEntryPath, VERSION_ENTRY } from '../archive/format.js';
import { readArchive } from '../archive/reader.js';
import { CorruptArchiveError, errorMessage } from '../core/errors.js';
import type { DecryptionKey } from '../crypto/age.js';
import { NO_KEY, type SnapshotRepository } from './repository.js';

export interface VerifyResult {
  name: string;
  ok: boolean;
  entries: number;
  objects: number;
  /** False for an encrypted snapshot verified without its key: only stored bytes checked. */
  contentsChecked: boolean;
  problems: string[];
}

/**
 * Re-reads the archive: size and sha256 of the stored bytes as recorded, and (when readable)
 * every object parses and the counts match snapshot.json.
 */
export async function verifySnapshot(
  repo: SnapshotRepository,
  name: string,
  key: DecryptionKey = NO_KEY,
): Promise<VerifyResult> {
  const m = await repo.readManifest(name);
  const problems: string[] = [];
  const result = (contentsChecked: boolean, entries = 0, objects = 0): VerifyResult => ({
    name,
    ok: problems.length === 0,
    entries,
    objects,
    contentsChecked,
    problems,
  });
  const corrupt = (err: unknown) => {
    if (!(err instanceof CorruptArchiveError)) throw err;
    problems.push(err.message);
  };
  const hasKey = key.identities.length > 0 || key.passphrases.length > 0;
  if (m.archive.encrypted && !hasKey) {
    const raw = await repo.openArchive({ ...m, archive: { ...m.archive, encrypted: false } });
    raw.stream.resume();
    await raw.checkIntegrity().catch(corrupt);
    return result(false);
  }
  const counts = new Map<string, number>();
  let objects = 0;
  let sawVersion = false;
  const archive = await repo.openArchive(m, key);
  let entries = 0;
  try {
    ({ entries } = await readArchive(archive.stream, ({ name: entry, data }) => {
      if (entry === VERSION_ENTRY) {
        sawVersion = true;
        return;
      }
      const loc = parseObjectEntryPath(entry);
      if (!loc) {
        problems.push(`unexpected entry ${entry}`);
        return;
      }
      try {
        const obj = JSON.parse(data.toString('utf8')) as { metadata?: { name?: string } };
        if (obj.metadata?.name !== loc.name)
          problems.push(`${entry}: metadata.name does not match the path`);
      } catch (err) {
        problems.push(`${entry}: not valid JSON (${errorMessage(err)})`);
      }
      objects++;
      counts.set(loc.resource, (counts.get(loc.resource) ?? 0) + 1);
    }));
  } catch (err) {
    corrupt(err);
    return result(true, entries, objects);
  }
  await archive.checkIntegrity().catch(corrupt);
  if (!sawVersion) problems.push(`missing ${VERSION_ENTRY}`);
  for (const r of m.resources) {
    const got = counts.get(r.resource) ?? 0;
    if (got !== r.count)
      problems.push(`${r.resource}: snapshot.json says ${r.count} objects, archive has ${got}`);
  }
  if (objects !== m.totalObjects)
    problems.push(`snapshot.json says ${m.totalObjects} objects, archive has ${objects}`);
  return result(true, entries, objects);
}
