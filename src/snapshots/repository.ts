// The snapshots of one storage location, as a domain over the raw ObjectStore (as Velero's
// BackupStore is over its ObjectStore): list, read snapshot.json, open the archive (decrypted,
// its stored bytes checked against snapshot.json), delete, and claim a name for a new snapshot.
// No other module builds a key or knows a snapshot's file names. A snapshot exists exactly
// when its snapshot.json does.
import type { Readable } from 'node:stream';
import { AlreadyExistsError, CorruptArchiveError, NotFoundError } from '../core/errors.js';
import { HashCounter } from '../core/hash.js';
import { validateSnapshotName } from '../core/names.js';
import type { SnapshotManifest } from '../core/types.js';
import { type DecryptionKey, decryptStream, type EncryptionKey } from '../crypto/age.js';
import { getBuffer, type ObjectStore } from '../storage/store.js';
import { SnapshotDraft } from './draft.js';
import {
  ARCHIVE_FILE,
  archiveKey,
  LOCK_FILE,
  LOG_FILE,
  lockKey,
  MANIFEST_FILE,
  manifestKey,
  SNAPSHOTS_PREFIX,
  snapshotNamesFromKeys,
  snapshotPrefix,
} from './layout.js';
import { DamagedManifestError, parseManifest } from './manifest.js';
import { isScheduledSnapshotName, SCHEDULE_LABEL } from './scheduled.js';

export interface SnapshotListing {
  snapshots: SnapshotManifest[];
  damaged: DamagedManifestError[];
}

export const NO_KEY: DecryptionKey = { identities: [], passphrases: [] };

export interface OpenedArchive {
  /** The gzip'd tar, decrypted when the snapshot is encrypted. */
  stream: Readable;
  /**
   * Call after reading `stream` to the end: reads any rest and compares the stored bytes
   * with the size and sha256 in snapshot.json; a mismatch is a CorruptArchiveError.
   */
  checkIntegrity(): Promise<void>;
}

export class SnapshotRepository {
  constructor(readonly store: ObjectStore) {}

  /** Where the snapshots are, for display: never contains credentials. */
  get url(): string {
    return this.store.url;
  }

  /**
   * Every complete snapshot, oldest first, and apart from them the ones whose snapshot.json is
   * damaged: one bad file (written by hand, or by someone who can write the bucket) must not
   * stop `list` or a schedule's retention for the whole location.
   */
  async list(): Promise<SnapshotListing> {
    const snapshots: SnapshotManifest[] = [];
    const damaged: DamagedManifestError[] = [];
    for (const name of await this.names()) {
      try {
        const m = await this.readIfPresent(name);
        if (m) snapshots.push(m);
      } catch (err) {
        if (!(err instanceof DamagedManifestError)) throw err;
        damaged.push(err);
      }
    }
    snapshots.sort(
      (a, b) => a.startedAt.localeCompare(b.startedAt) || a.name.localeCompare(b.name),
    );
    return { snapshots, damaged };
  }

  /**
   * The newest snapshot a schedule made, found by the names schedule runs give (one listing,
   * then snapshot.json of the newest candidates until one carries the schedule's label).
   */
  async newestOfSchedule(schedule: string): Promise<SnapshotManifest | undefined> {
    const names = (await this.names()).filter((n) => isScheduledSnapshotName(schedule, n));
    for (const n of names.reverse().slice(0, 10)) {
      try {
        const m = await this.readIfPresent(n);
        if (m?.labels[SCHEDULE_LABEL] === schedule) return m;
      } catch {
        // damaged: try the next one
      }
    }
    return undefined;
  }

  /** Names of the complete snapshots, sorted. */
  private async names(): Promise<string[]> {
    const keys: string[] = [];
    for await (const o of this.store.list(SNAPSHOTS_PREFIX)) keys.push(o.key);
    return snapshotNamesFromKeys(keys, MANIFEST_FILE);
  }

  /** snapshot.json of `name`, or undefined when it was deleted since it was listed. */
  private async readIfPresent(name: string): Promise<SnapshotManifest | undefined> {
    try {
      return await this.readManifest(name);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async readManifest(name: string): Promise<SnapshotManifest> {
    validateSnapshotName(name);
    let raw: Buffer;
    try {
      raw = await getBuffer(this.store, manifestKey(name));
    } catch (err) {
      if (err instanceof NotFoundError) throw this.notFound(name);
      throw err;
    }
    return parseManifest(raw, name);
  }

  /** Opens a snapshot's archive for reading, hashing the stored bytes on the way. */
  async openArchive(m: SnapshotManifest, key: DecryptionKey = NO_KEY): Promise<OpenedArchive> {
    const raw = await this.store.get(archiveKey(m.name));
    const stored = new HashCounter();
    raw.on('error', (err) => stored.destroy(err));
    raw.pipe(stored);
    const stream = m.archive.encrypted
      ? await decryptStream(stored, key, `snapshot "${m.name}"`)
      : stored;
    return {
      stream,
      checkIntegrity: async () => {
        if (!stored.readableEnded) {
          await new Promise<void>((resolve, reject) => {
            stored.on('end', resolve).on('error', reject);
            stored.resume();
          });
        }
        if (stored.sha256 !== m.archive.sha256 || stored.size !== m.archive.size) {
          throw new CorruptArchiveError(
            `archive of snapshot "${m.name}" is corrupt: it does not match its snapshot.json (sha256 ${stored.sha256}, expected ${m.archive.sha256}; ${stored.size} bytes, expected ${m.archive.size})`,
          );
        }
      },
    };
  }

  /**
   * Claims `name` for a new snapshot; the returned draft writes it and commits or aborts.
   * Two claims of one name cannot both succeed: the lock is a conditional create.
   */
  async claim(name: string, startedAt: Date, encryption?: EncryptionKey): Promise<SnapshotDraft> {
    validateSnapshotName(name);
    if (await this.store.head(manifestKey(name))) throw nameTaken(name);
    try {
      await this.store.createExclusive(
        lockKey(name),
        Buffer.from(JSON.stringify({ startedAt: startedAt.toISOString() })),
      );
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw nameTaken(name);
      throw err;
    }
    // Check again now that the lock is ours: a backup of the same name may have completed (and
    // removed its lock) between the first check and the lock. Without this we would overwrite
    // its archive and, failing at the final conditional create, delete it when aborting.
    // A finished backup writes snapshot.json before it removes its lock, so one of them is
    // always visible here.
    if (await this.store.head(manifestKey(name))) {
      await this.store.delete(lockKey(name)).catch(() => {});
      throw nameTaken(name);
    }
    return new SnapshotDraft(this.store, name, encryption);
  }

  /** Removes snapshot.json first, so the snapshot disappears at once, then the rest. */
  async delete(name: string): Promise<{ deleted: number }> {
    validateSnapshotName(name);
    const keys: string[] = [];
    for await (const o of this.store.list(snapshotPrefix(name))) keys.push(o.key);
    const manifest = manifestKey(name);
    if (keys.includes(manifest)) await this.store.delete(manifest);
    for (const k of keys) if (k !== manifest) await this.store.delete(k);
    // A backup that lost its storage mid-upload (or was killed) cannot clean up after itself:
    // an incomplete S3 multipart upload or a temporary file stays behind, invisible to list.
    // Remove those too, so `delete` leaves nothing of the name (see docs/security.md).
    let incomplete = 0;
    if (this.store.removeIncomplete) {
      for (const file of [ARCHIVE_FILE, LOG_FILE, MANIFEST_FILE, LOCK_FILE])
        incomplete += await this.store.removeIncomplete(snapshotPrefix(name) + file);
    }
    if (keys.length + incomplete === 0) throw this.notFound(name);
    return { deleted: keys.length + incomplete };
  }

  private notFound(name: string): NotFoundError {
    return new NotFoundError(
      `snapshot "${name}" in ${this.store.url}`,
      'list the snapshots there with: kubectl snapshot list',
    );
  }
}

function nameTaken(name: string): AlreadyExistsError {
  return new AlreadyExistsError(
    `snapshot "${name}"`,
    'choose another name; if an interrupted backup left it behind, remove it with: kubectl snapshot delete ' +
      name,
  );
}
