// The snapshots of one storage location, as a domain over the raw ObjectStore (as Velero's
// BackupStore is over its ObjectStore): list, read snapshot.json, open the archive (decrypted,
// its stored bytes checked against snapshot.json), delete, and claim a name for a new snapshot.
// No other module builds a key or knows a snapshot's file names. A snapshot exists exactly
// when its snapshot.json does.
import type { Readable } from 'node:stream';
import type { ObjectLocation } from '../archive/format.js';
import {
  AlreadyExistsError,
  CorruptArchiveError,
  NotFoundError,
  UserError,
} from '../core/errors.js';
import { HashCounter } from '../core/hash.js';
import { validateSnapshotName } from '../core/names.js';
import type { KubeObject, SnapshotManifest } from '../core/types.js';
import { type DecryptionKey, decryptStream, type EncryptionKey } from '../crypto/age.js';
import {
  parseSignatureFile,
  type SignatureFile,
  type SigningKey,
  type VerifyKey,
  verifyBytes,
} from '../crypto/sign.js';
import { getBuffer, type ObjectStore } from '../storage/store.js';
import { type BackupDraft, SnapshotDraft } from './draft.js';
import {
  ARCHIVE_FILE,
  archiveKey,
  LOCK_FILE,
  LOG_FILE,
  lockKey,
  MANIFEST_FILE,
  manifestKey,
  parseKey,
  SIGNATURE_FILE,
  SNAPSHOTS_PREFIX,
  signatureKey,
  snapshotNamesFromKeys,
  snapshotPrefix,
} from './layout.js';
import { describeLock, isLive, type Lock, newLock, parseLock } from './lock.js';
import { DamagedManifestError, parseManifest } from './manifest.js';
import { isScheduledSnapshotName, SCHEDULE_LABEL } from './scheduled.js';

export interface SnapshotListing {
  snapshots: SnapshotManifest[];
  damaged: DamagedManifestError[];
  /** Names with files but no snapshot.json: backups in progress, or killed ones' leftovers. */
  incomplete: IncompleteSnapshot[];
}

export interface IncompleteSnapshot {
  name: string;
  lock?: Lock;
  /** The backup holding the lock may still run (see isLive). */
  live: boolean;
  /** When the newest of its files was written. */
  lastModified: Date;
}

export const NO_KEY: DecryptionKey = { identities: [], passphrases: [] };

/** One object entry that passed the checks of snapshots/contents.ts. */
export interface CheckedObject {
  loc: ObjectLocation;
  object: KubeObject;
  /** The entry's bytes, as stored in the archive (or as the layout's reader rewrote them). */
  data: Buffer;
}

/**
 * Reads an archive of another layout's format through every check of that format, as
 * contents.ts readCheckedArchive does ours; `onObject` sees only objects that passed.
 */
export type ForeignArchiveReader = (
  m: SnapshotManifest,
  key: DecryptionKey,
  onObject: (o: CheckedObject) => void | Promise<void>,
) => Promise<{ entries: number; objects: number }>;

export interface OpenedArchive {
  /** The gzip'd tar, decrypted when the snapshot is encrypted. */
  stream: Readable;
  /**
   * Call after reading `stream` to the end: reads any rest and compares the stored bytes
   * with the size and sha256 in snapshot.json; a mismatch is a CorruptArchiveError.
   */
  checkIntegrity(): Promise<void>;
}

/** A snapshot's signature object, as stored (not checked against any key). */
export type StoredSignature = { signature: SignatureFile } | { damaged: string };

/**
 * Refused before the archive is read: a snapshot that is unsigned, or whose snapshot.json
 * does not verify with the required key (changed, or signed by another key).
 */
export class SignatureError extends UserError {
  constructor(message: string, hint: string) {
    super(message, hint);
    this.name = 'SignatureError';
  }
}

export interface RepositoryKeys {
  /** Drafts sign snapshot.json with it (backup --sign-key). */
  signing?: SigningKey;
  /** readManifest refuses a snapshot whose snapshot.json is not signed by it. */
  verify?: VerifyKey;
}

export class SnapshotRepository {
  constructor(
    readonly store: ObjectStore,
    private readonly keys: RepositoryKeys = {},
  ) {}

  /** The same snapshots, with snapshots committed from now on signed by `key`. */
  signingWith(key: SigningKey): SnapshotRepository {
    return new SnapshotRepository(this.store, { ...this.keys, signing: key });
  }

  /**
   * The same snapshots, readable (readManifest, and so restore, diff, verify) only when
   * snapshot.json is signed by `key`.
   */
  requiringSignature(key: VerifyKey): SnapshotRepository {
    return new SnapshotRepository(this.store, { ...this.keys, verify: key });
  }

  /** The reader of this layout's archives when their format is not ours (snapshots/velero/). */
  get foreignArchive(): ForeignArchiveReader | undefined {
    return undefined;
  }

  /** Where the snapshots are, for display: never contains credentials. */
  get url(): string {
    return this.store.url;
  }

  /**
   * Every complete snapshot, oldest first, and apart from them the ones whose snapshot.json is
   * damaged: one bad file (written by hand, or by someone who can write the bucket) must not
   * stop `list` or a schedule's retention for the whole location.
   */
  async list(now = new Date()): Promise<SnapshotListing> {
    const snapshots: SnapshotManifest[] = [];
    const damaged: DamagedManifestError[] = [];
    const incomplete: IncompleteSnapshot[] = [];
    const listed = await this.listed();
    for (const [name, { files, lastModified }] of listed) {
      if (files.has(MANIFEST_FILE)) continue;
      const lock = files.has(LOCK_FILE) ? await this.readLock(name) : undefined;
      incomplete.push({ name, ...(lock ? { lock } : {}), live: isLive(lock, now), lastModified });
    }
    for (const name of [...listed.keys()].filter((n) => listed.get(n)?.files.has(MANIFEST_FILE))) {
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
    return { snapshots, damaged, incomplete };
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

  /** Every name with files, sorted: which files, and when the newest was written. */
  private async listed(): Promise<Map<string, { files: Set<string>; lastModified: Date }>> {
    const out = new Map<string, { files: Set<string>; lastModified: Date }>();
    for await (const o of this.store.list(SNAPSHOTS_PREFIX)) {
      const k = parseKey(o.key);
      if (!k) continue;
      const entry = out.get(k.name) ?? { files: new Set<string>(), lastModified: o.lastModified };
      entry.files.add(k.file);
      if (o.lastModified > entry.lastModified) entry.lastModified = o.lastModified;
      out.set(k.name, entry);
    }
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
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
    if (this.keys.verify) await this.checkSignature(name, raw, this.keys.verify);
    return parseManifest(raw, name);
  }

  /** The signature object of `name`, unchecked; undefined when the snapshot is unsigned. */
  async readSignature(name: string): Promise<StoredSignature | undefined> {
    validateSnapshotName(name);
    let raw: Buffer;
    try {
      raw = await getBuffer(this.store, signatureKey(name));
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    const parsed = parseSignatureFile(raw);
    return typeof parsed === 'string' ? { damaged: parsed } : { signature: parsed };
  }

  /** Throws a SignatureError unless `manifest` (snapshot.json's bytes) is signed by `key`. */
  private async checkSignature(name: string, manifest: Buffer, key: VerifyKey): Promise<void> {
    const stored = await this.readSignature(name);
    const hint = `only snapshots signed by ${key.fingerprint} are accepted here; restore from another snapshot, or check who can write to ${this.store.url}`;
    if (!stored)
      throw new SignatureError(`snapshot "${name}" is not signed (no ${SIGNATURE_FILE})`, hint);
    if ('damaged' in stored)
      throw new SignatureError(
        `the signature of snapshot "${name}" is damaged: ${SIGNATURE_FILE} has ${stored.damaged}`,
        hint,
      );
    const sig = stored.signature;
    if (sig.keyFingerprint !== key.fingerprint)
      throw new SignatureError(
        `snapshot "${name}" is signed by another key (${sig.keyFingerprint}, not ${key.fingerprint})`,
        hint,
      );
    if (!verifyBytes(manifest, sig, key))
      throw new SignatureError(
        `the signature of snapshot "${name}" does not match its snapshot.json: it was changed after it was signed`,
        hint,
      );
  }

  /** Opens a snapshot's archive for reading, hashing the stored bytes on the way. */
  async openArchive(m: SnapshotManifest, key: DecryptionKey = NO_KEY): Promise<OpenedArchive> {
    const stored = HashCounter.reading(await this.store.get(archiveKey(m.name)));
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
  async claim(name: string, startedAt: Date, encryption?: EncryptionKey): Promise<BackupDraft> {
    validateSnapshotName(name);
    if (await this.store.head(manifestKey(name))) throw nameTaken(name);
    const lock = newLock(startedAt);
    try {
      await this.store.createExclusive(lockKey(name), Buffer.from(JSON.stringify(lock)));
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
    return new SnapshotDraft(this.store, name, lock, encryption, this.keys.signing);
  }

  /**
   * Removes snapshot.json first, so the snapshot disappears at once, then the rest. A name a
   * backup is still writing is refused: deleting under it would leave that backup's files to
   * whatever claims the name next.
   */
  async delete(name: string, now = new Date()): Promise<{ deleted: number }> {
    validateSnapshotName(name);
    const keys: string[] = [];
    for await (const o of this.store.list(snapshotPrefix(name))) keys.push(o.key);
    const manifest = manifestKey(name);
    if (!keys.includes(manifest) && keys.includes(lockKey(name))) {
      const lock = await this.readLock(name);
      if (lock && isLive(lock, now)) {
        throw new UserError(
          `snapshot "${name}" is being written by ${describeLock(lock)}`,
          `wait for that backup to end; if it was killed, its leftovers can be deleted once it is a day old (kubectl snapshot prune removes them then)`,
        );
      }
    }
    if (keys.includes(manifest)) await this.store.delete(manifest);
    for (const k of keys) if (k !== manifest) await this.store.delete(k);
    // A backup that lost its storage mid-upload (or was killed) cannot clean up after itself:
    // an incomplete S3 multipart upload or a temporary file stays behind, invisible to list.
    // Remove those too, so `delete` leaves nothing of the name (see docs/security.md).
    let incomplete = 0;
    if (this.store.removeIncomplete) {
      for (const file of [ARCHIVE_FILE, LOG_FILE, SIGNATURE_FILE, MANIFEST_FILE, LOCK_FILE])
        incomplete += await this.store.removeIncomplete(snapshotPrefix(name) + file);
    }
    if (keys.length + incomplete === 0) throw this.notFound(name);
    return { deleted: keys.length + incomplete };
  }

  private async readLock(name: string): Promise<Lock | undefined> {
    const raw = await getBuffer(this.store, lockKey(name)).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    return raw && parseLock(raw);
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
