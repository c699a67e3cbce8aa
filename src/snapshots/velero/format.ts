// Which archive format a backup writes, ours or Velero's, from --format and the location's
// layout, and what Velero's format rules out. Pure: no I/O.
import { UserError } from '../../core/errors.js';

export const BACKUP_FORMATS = ['snapshot', 'velero'] as const;
export type BackupFormat = (typeof BACKUP_FORMATS)[number];

/** Velero's default --ttl (velero backup create): its garbage collector deletes the backup then. */
export const VELERO_DEFAULT_TTL_MS = 720 * 3600 * 1000;

/** Velero reads no encrypted tarball: a backup for it cannot be encrypted. */
export function veleroCannotEncrypt(): UserError {
  return new UserError(
    'a backup in Velero format cannot be encrypted: Velero could not read it',
    'drop --encrypt-to / --encrypt-passphrase-file (encrypt the bucket instead, e.g. with S3 server-side encryption), or back up in our format to a location of ours (without --format velero)',
  );
}

/** Velero has no place for a signature, and our reader takes no signed Velero backup. */
export function veleroCannotSign(): UserError {
  return new UserError(
    'a backup in Velero format cannot be signed: Velero keeps no signature, so nothing could check it',
    'drop --sign-key, or back up in our format to a location of ours (without --format velero)',
  );
}

export interface FormatChoice {
  /** --format; undefined: the location's layout decides. */
  flag?: BackupFormat;
  /** The location's layout, once it is known (undefined: ours). */
  layout?: 'velero';
  encrypted: boolean;
  signed: boolean;
  /** The named location refuses unencrypted backups. */
  requireEncryption?: boolean;
  locationName?: string;
}

/**
 * The format to write: --format, else Velero's in a Velero location. A Velero location holds
 * only Velero's; Velero's format takes neither encryption nor a signature.
 */
export function chooseBackupFormat(c: FormatChoice): BackupFormat {
  if (c.flag === 'snapshot' && c.layout === 'velero')
    throw new UserError(
      'a Velero backup storage location (layout=velero) holds only backups in Velero format',
      'drop --format snapshot (backups there are written in Velero format), or give a location of ours with --storage',
    );
  const format = c.flag ?? (c.layout === 'velero' ? 'velero' : 'snapshot');
  if (format !== 'velero') return format;
  if (c.encrypted) throw veleroCannotEncrypt();
  if (c.signed) throw veleroCannotSign();
  if (c.requireEncryption)
    throw new UserError(
      `storage location "${c.locationName ?? '?'}" requires encrypted backups, and a backup in Velero format cannot be encrypted (Velero could not read it)`,
      'back up in our format there (without --format velero), or to another location',
    );
  return format;
}
