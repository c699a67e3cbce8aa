// The backups of a Velero backup storage location (`?layout=velero`), read as snapshots: the
// counterpart of ../repository.ts for Velero's layout, used by list, describe, verify, diff and
// restore through the same interface. A backup of ours can be added (`backup --format
// velero`, velero/draft.ts); deleting stays Velero's (`velero backup delete`), as its
// garbage collector and its Backup objects in the cluster would otherwise disagree.
import type { Readable } from 'node:stream';
import { readArchive } from '../../archive/reader.js';
import {
  AlreadyExistsError,
  CorruptArchiveError,
  NotFoundError,
  UserError,
} from '../../core/errors.js';
import { HashCounter } from '../../core/hash.js';
import { validateSnapshotName } from '../../core/names.js';
import type { SnapshotManifest } from '../../core/types.js';
import type { EncryptionKey } from '../../crypto/age.js';
import { getBuffer } from '../../storage/store.js';
import type { BackupDraft } from '../draft.js';
import { DamagedManifestError } from '../manifest.js';
import {
  type ForeignArchiveReader,
  type OpenedArchive,
  SignatureError,
  type SnapshotListing,
  SnapshotRepository,
  type StoredSignature,
} from '../repository.js';
import { manifestFromBackup } from './backup.js';
import {
  indexArchive,
  parseResourceList,
  secondReadLimits,
  VeleroContentsCheck,
} from './contents.js';
import { VeleroDraft } from './draft.js';
import { veleroCannotEncrypt, veleroCannotSign } from './format.js';
import { asVeleroRestores } from './labels.js';
import {
  BACKUPS_PREFIX,
  backupPrefix,
  contentsKey,
  METADATA_FILE,
  metadataKey,
  parseBackupKey,
  resourceListKey,
} from './layout.js';

function readOnly(what: string, velero: string): UserError {
  return new UserError(
    `${what} is not possible in a Velero backup storage location: Velero owns its files`,
    `use ${velero}, or give a location of ours with --storage`,
  );
}

export class VeleroRepository extends SnapshotRepository {
  private requireSignature = false;

  /** Velero signs nothing: with a required key every backup is refused, as unsigned ones are. */
  override requiringSignature(): SnapshotRepository {
    const r = new VeleroRepository(this.store);
    r.requireSignature = true;
    return r;
  }

  override signingWith(): SnapshotRepository {
    throw veleroCannotSign();
  }

  /** Every backup with a velero-backup.json, oldest first, whatever its phase. */
  override async list(): Promise<SnapshotListing> {
    const found = new Map<string, { files: Map<string, number> }>();
    for await (const o of this.store.list(BACKUPS_PREFIX)) {
      const k = parseBackupKey(o.key);
      if (!k) continue;
      const e = found.get(k.name) ?? { files: new Map<string, number>() };
      e.files.set(k.file, o.size);
      found.set(k.name, e);
    }
    const snapshots: SnapshotManifest[] = [];
    const damaged: DamagedManifestError[] = [];
    for (const [name, { files }] of found) {
      if (!files.has(METADATA_FILE)) continue;
      try {
        const raw = await getBuffer(this.store, metadataKey(name));
        snapshots.push(manifestFromBackup(raw, name, files.get(`${name}.tar.gz`) ?? 0));
      } catch (err) {
        if (err instanceof NotFoundError) continue; // deleted since it was listed
        if (!(err instanceof DamagedManifestError)) throw err;
        damaged.push(err);
      }
    }
    snapshots.sort(
      (a, b) => a.startedAt.localeCompare(b.startedAt) || a.name.localeCompare(b.name),
    );
    return { snapshots, damaged, incomplete: [] };
  }

  override async newestOfSchedule(): Promise<undefined> {
    return undefined;
  }

  /**
   * The manifest of a backup: velero-backup.json, then (when the tarball exists) a first
   * read of the tarball through every check, which learns the types, counts and namespaces
   * and checks them against the resource list. A backup without a tarball (Failed before
   * writing one) keeps empty resources; reading its archive then fails.
   */
  override async readManifest(name: string): Promise<SnapshotManifest> {
    validateSnapshotName(name);
    let raw: Buffer;
    try {
      raw = await getBuffer(this.store, metadataKey(name));
    } catch (err) {
      if (err instanceof NotFoundError) throw this.missing(name);
      throw err;
    }
    if (this.requireSignature)
      throw new SignatureError(
        `Velero backup "${name}" is not signed (Velero signs nothing)`,
        'a location that requires signatures cannot take Velero backups; drop --verify-key for it',
      );
    const m = manifestFromBackup(raw, name);
    const head = await this.store.head(contentsKey(name));
    if (!head) return m;
    const list = parseResourceList(name, await this.getRequired(name, resourceListKey(name)));
    const stored = HashCounter.reading(await this.store.get(contentsKey(name)));
    const index = await indexArchive(name, stored, head.size, list);
    await drain(stored);
    return {
      ...m,
      namespaces: index.namespaces,
      resources: index.resources,
      totalObjects: index.totalObjects,
      archive: {
        ...m.archive,
        size: stored.size,
        sha256: stored.sha256,
        inflatedSize: index.inflatedSize,
      },
      warnings: [
        ...m.warnings,
        ...(index.notRestored > 0
          ? [
              {
                message: `${index.notRestored} object(s) of types Velero never restores (events, nodes, …) are left out`,
              },
            ]
          : []),
      ],
      velero: { ...m.velero, notRestored: index.notRestored, preferredVersions: index.preferred },
    };
  }

  override async readSignature(): Promise<StoredSignature | undefined> {
    return undefined;
  }

  /** The tarball as stored, its bytes compared at the end with those the first read hashed. */
  override async openArchive(m: SnapshotManifest): Promise<OpenedArchive> {
    let raw: Readable;
    try {
      raw = await this.store.get(contentsKey(m.name));
    } catch (err) {
      if (err instanceof NotFoundError)
        throw new NotFoundError(
          `the tarball of Velero backup "${m.name}"`,
          'Velero wrote none: see velero backup describe',
        );
      throw err;
    }
    const stored = HashCounter.reading(raw);
    return {
      stream: stored,
      checkIntegrity: async () => {
        await drain(stored);
        if (stored.sha256 !== m.archive.sha256 || stored.size !== m.archive.size)
          throw new CorruptArchiveError(
            `the tarball of Velero backup "${m.name}" changed while it was read (sha256 ${stored.sha256}, first read ${m.archive.sha256})`,
          );
      },
    };
  }

  override get foreignArchive(): ForeignArchiveReader {
    return async (m, _key, onObject) => {
      const check = new VeleroContentsCheck(m);
      const archive = await this.openArchive(m);
      const { entries } = await readArchive(
        archive.stream,
        async (e) => {
          const o = check.entry(e);
          if (!o) return;
          // Velero's restore labels what it creates with the backup's name (below).
          if (asVeleroRestores(o.object, m.name)) o.data = Buffer.from(JSON.stringify(o.object));
          await onObject(o);
        },
        secondReadLimits(m),
      );
      check.finish();
      await archive.checkIntegrity();
      return { entries, objects: check.objects };
    };
  }

  /**
   * A name with any file under its directory is taken (Velero's, or a backup of ours still
   * being written). Velero's layout has no lock: two backups started at once under one name
   * race, and the second to commit fails at velero-backup.json's conditional create.
   */
  override async claim(
    name: string,
    _startedAt?: Date,
    encryption?: EncryptionKey,
  ): Promise<BackupDraft> {
    validateSnapshotName(name);
    if (encryption) throw veleroCannotEncrypt();
    for await (const _ of this.store.list(backupPrefix(name)))
      throw new AlreadyExistsError(
        `Velero backup "${name}" in ${this.store.url}`,
        'choose another name, or delete it with: velero backup delete',
      );
    return new VeleroDraft(this.store, name);
  }

  override async delete(): Promise<{ deleted: number }> {
    throw readOnly('deleting a backup', 'velero backup delete');
  }

  private async getRequired(name: string, key: string): Promise<Buffer> {
    try {
      return await getBuffer(this.store, key);
    } catch (err) {
      if (err instanceof NotFoundError)
        throw new CorruptArchiveError(`Velero backup "${name}" is incomplete: ${key} is missing`);
      throw err;
    }
  }

  private missing(name: string): NotFoundError {
    return new NotFoundError(
      `Velero backup "${name}" in ${this.store.url}`,
      'list the backups there with: kubectl snapshot list',
    );
  }
}

/** Reads what is left of a stream, so that its hash covers every stored byte. */
async function drain(s: Readable): Promise<void> {
  if (s.readableEnded) return;
  await new Promise<void>((resolve, reject) => {
    s.on('end', resolve).on('error', reject);
    s.resume();
  });
}
