// A backup of ours being written in Velero's layout (`backup --format velero`): the tarball
// with each object under its classic and its `-preferredversion` path, the log, the resource
// list, an empty volume-snapshot list, then velero-backup.json last, so that Velero's backup
// sync (and our list) never imports a half-written backup. What goes in each file is decided
// in write.ts; this only stores it.
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { FORMAT_VERSION } from '../../archive/format.js';
import { parseApiVersion, type SnapshotManifest } from '../../core/types.js';
import type { ObjectStore } from '../../storage/store.js';
import {
  type ArchiveUpload,
  type BackupDraft,
  type DraftObject,
  type ManifestFields,
  type StoringArchive,
  storeArchive,
} from '../draft.js';
import { veleroEntryPaths } from './entries.js';
import { contentsKey, logKey, metadataKey, resourceListKey, volumeSnapshotsKey } from './layout.js';
import { noVolumeSnapshots, ResourceList, veleroBackupJson, veleroLogText } from './write.js';

export class VeleroDraft implements BackupDraft {
  /**
   * As Velero's own entries: its restore creates each directory with the mode of the file
   * it unpacks there (pkg/archive extractor), and a non-root server needs to enter them.
   */
  readonly entryMode = 0o755;
  private readonly resources = new ResourceList();
  private upload?: StoringArchive;

  constructor(
    private readonly store: ObjectStore,
    readonly name: string,
  ) {}

  entryPaths(o: DraftObject): string[] {
    this.resources.add(o.apiVersion, o.kind, o.loc.namespace, o.loc.name);
    return veleroEntryPaths(o.loc, parseApiVersion(o.apiVersion).version);
  }

  async startArchive(source: Readable): Promise<ArchiveUpload> {
    const { upload, failed } = storeArchive(this.store, contentsKey(this.name), source);
    this.upload = upload;
    return { failed };
  }

  async writeLog(lines: readonly object[]): Promise<void> {
    const text = veleroLogText(lines as readonly Record<string, unknown>[]);
    await this.store.put(logKey(this.name), gzipSync(Buffer.from(text)));
  }

  /** Stores the lists, then velero-backup.json with a conditional create: the backup exists. */
  async commit(fields: ManifestFields, tar?: { inflatedSize: number }): Promise<SnapshotManifest> {
    if (!this.upload) throw new Error('commit before the archive was started');
    await this.upload.done;
    await this.store.put(resourceListKey(this.name), this.resources.gzip());
    await this.store.put(volumeSnapshotsKey(this.name), noVolumeSnapshots());
    await this.store.createExclusive(metadataKey(this.name), veleroBackupJson(fields));
    const { stored } = this.upload;
    const partial = fields.phase === 'PartiallyFailed';
    return {
      ...fields,
      archive: {
        key: contentsKey(this.name),
        size: stored.size,
        sha256: stored.sha256,
        encrypted: false,
        ...(tar ? { inflatedSize: tar.inflatedSize } : {}),
      },
      log: { key: logKey(this.name) },
      velero: {
        phase: partial ? 'PartiallyFailed' : 'Completed',
        formatVersion: FORMAT_VERSION,
        errors: partial ? fields.warnings.length : 0,
        warnings: partial ? 0 : fields.warnings.length,
        notRestored: 0,
        preferredVersions: true,
      },
    };
  }

  /** Everything but velero-backup.json, which is only there once the backup committed. */
  async abort(): Promise<boolean> {
    await this.upload?.done.catch(() => {});
    const keys = [logKey, contentsKey, resourceListKey, volumeSnapshotsKey].map((k) =>
      k(this.name),
    );
    const cleanup = await Promise.allSettled(keys.map((k) => this.store.delete(k)));
    return cleanup.every((r) => r.status === 'fulfilled');
  }
}
