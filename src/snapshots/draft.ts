// A snapshot being written under a claimed name: archive, then log, then snapshot.json (the
// commit), then the lock goes; or, on failure, everything it wrote goes, as long as the lock
// still holds this draft's token (after a forced delete the name may be another backup's). Encryption and the
// hash of the stored bytes happen here, so `verify` can check an encrypted snapshot without
// its key.
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { type ObjectLocation, objectEntryPath } from '../archive/format.js';
import { NotFoundError, UserError } from '../core/errors.js';
import { HashCounter } from '../core/hash.js';
import type { SnapshotManifest } from '../core/types.js';
import { type EncryptionKey, encryptBuffer, encryptStream } from '../crypto/age.js';
import { type SigningKey, signBytes } from '../crypto/sign.js';
import { getBuffer, type ObjectStore } from '../storage/store.js';
import { archiveKey, lockKey, logKey, manifestKey, signatureKey } from './layout.js';
import { type Lock, parseLock } from './lock.js';

/** What the backup decides; the draft adds where and how the files were stored. */
export type ManifestFields = Omit<SnapshotManifest, 'archive' | 'encryption' | 'log'>;

export interface ArchiveUpload {
  /**
   * Rejects as soon as storing fails (disk full, S3 part rejected, connection lost). The store
   * then stops reading the archive, so a producer waiting for back-pressure to clear would
   * wait forever: race every write against this.
   */
  failed: Promise<never>;
}

/** An archive being stored: done when the store has it all, and the hash of what it took. */
export interface StoringArchive {
  done: Promise<void>;
  stored: HashCounter;
}

/**
 * Starts storing `input` under `key`, hashing the bytes on their way: the archive's upload
 * for the draft, and its `failed` for the producer (ArchiveUpload).
 */
export function storeArchive(
  store: ObjectStore,
  key: string,
  input: Readable,
): { upload: StoringArchive; failed: Promise<never> } {
  const stored = new HashCounter();
  input.on('error', (err) => stored.destroy(err));
  const done = store.put(key, input.pipe(stored)).then(() => {});
  done.catch(() => {});
  const failed = done.then(() => new Promise<never>(() => {}));
  failed.catch(() => {});
  return { upload: { done, stored }, failed };
}

/** One object as the backup stores it. */
export interface DraftObject {
  loc: ObjectLocation;
  apiVersion: string;
  kind: string;
}

/**
 * A backup being written under a claimed name, in its location's layout: ours (below) or
 * Velero's (velero/draft.ts). The backup streams the archive, writes the log, then commits.
 */
export interface BackupDraft {
  readonly name: string;
  /** The mode of the archive's entries (tar). */
  readonly entryMode: number;
  /** Records an object going into the archive; answers the entry names it is stored under. */
  entryPaths(o: DraftObject): string[];
  startArchive(source: Readable): Promise<ArchiveUpload>;
  writeLog(lines: readonly object[]): Promise<void>;
  commit(fields: ManifestFields, tar?: { inflatedSize: number }): Promise<SnapshotManifest>;
  /** Removes what the draft wrote; false when the storage could not be reached to do so. */
  abort(): Promise<boolean>;
}

export class SnapshotDraft implements BackupDraft {
  /** Only this user reads what the archive would unpack to. */
  readonly entryMode = 0o600;

  private upload?: StoringArchive;

  constructor(
    private readonly store: ObjectStore,
    readonly name: string,
    private readonly lock: Lock,
    private readonly encryption?: EncryptionKey,
    /** Signs snapshot.json; its signature is stored before it, so it never exists unsigned. */
    private readonly signing?: SigningKey,
  ) {}

  /** Whether the name's lock is still this draft's; a storage failure is thrown, not a no. */
  private async holdsLock(): Promise<boolean> {
    const raw = await getBuffer(this.store, lockKey(this.name)).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    return raw !== undefined && parseLock(raw)?.token === this.lock.token;
  }

  entryPaths(o: DraftObject): string[] {
    return [objectEntryPath(o.loc)];
  }

  /** Starts storing the archive read from `source`, encrypted when the snapshot is. */
  async startArchive(source: Readable): Promise<ArchiveUpload> {
    const input = this.encryption ? await encryptStream(source, this.encryption) : source;
    const { upload, failed } = storeArchive(this.store, archiveKey(this.name), input);
    this.upload = upload;
    return { failed };
  }

  /** Writes the backup log: one JSON object per line, gzip'd (and encrypted). */
  async writeLog(lines: readonly object[]): Promise<void> {
    const body = gzipSync(Buffer.from(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`));
    await this.store.put(
      logKey(this.name),
      this.encryption ? await encryptBuffer(body, this.encryption) : body,
    );
  }

  /**
   * Waits for the archive, then writes snapshot.json with a conditional create: from then on
   * the snapshot exists. The lock goes last, so a name is always held by one of the two.
   */
  async commit(fields: ManifestFields, tar?: { inflatedSize: number }): Promise<SnapshotManifest> {
    if (!this.upload) throw new Error('commit before the archive was started');
    await this.upload.done;
    if (!(await this.holdsLock())) {
      throw new UserError(
        `snapshot "${this.name}" was deleted while this backup wrote it, so it was not completed`,
        'run the backup again',
      );
    }
    const { stored } = this.upload;
    const e = this.encryption;
    const manifest: SnapshotManifest = {
      ...fields,
      archive: {
        key: archiveKey(this.name),
        size: stored.size,
        sha256: stored.sha256,
        encrypted: e !== undefined,
        ...(tar ? { inflatedSize: tar.inflatedSize } : {}),
      },
      ...(e
        ? {
            encryption:
              'passphrase' in e
                ? { recipients: [], passphrase: true }
                : { recipients: e.recipients, passphrase: false },
          }
        : {}),
      log: { key: logKey(this.name) },
    };
    const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    if (this.signing) await this.store.put(signatureKey(this.name), signBytes(bytes, this.signing));
    await this.store.createExclusive(manifestKey(this.name), bytes);
    await this.store.delete(lockKey(this.name)).catch(() => {});
    return manifest;
  }

  /**
   * Removes what this draft wrote, so a failed backup neither appears in `list` nor holds its
   * name. Answers false when the storage could not be reached to do so.
   */
  async abort(): Promise<boolean> {
    await this.upload?.done.catch(() => {});
    try {
      if (!(await this.holdsLock())) return true; // nothing here is ours any more
    } catch {
      return false;
    }
    const cleanup = await Promise.allSettled(
      [archiveKey(this.name), logKey(this.name), signatureKey(this.name)].map((k) =>
        this.store.delete(k),
      ),
    );
    // The lock last: while it stands, no other backup can have written under the name.
    if (cleanup.every((r) => r.status === 'fulfilled')) {
      return this.store.delete(lockKey(this.name)).then(
        () => true,
        () => false,
      );
    }
    return false;
  }
}
