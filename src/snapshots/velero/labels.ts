// Velero's own labels on what it restores (pkg/restore addRestoreLabels): every object it
// creates carries velero.io/backup-name (the backup) and velero.io/restore-name (its Restore).
// A backup of objects an earlier Velero restore created holds that restore's labels, which a
// new restore overwrites. Without a Restore object of our own we set the backup's name and
// drop the stale restore name; comparing with what exists ignores both (restore/normalize.ts),
// as Velero's restore copies them onto the cluster's object before comparing.
import type { KubeObject } from '../../core/types.js';

export const BACKUP_NAME_LABEL = 'velero.io/backup-name';
export const RESTORE_NAME_LABEL = 'velero.io/restore-name';

/** Labels `o` as Velero's restore of `backup` would; true when it changed. */
export function asVeleroRestores(o: KubeObject, backup: string): boolean {
  const labels = o.metadata.labels ?? {};
  if (labels[BACKUP_NAME_LABEL] === backup && labels[RESTORE_NAME_LABEL] === undefined)
    return false;
  const { [RESTORE_NAME_LABEL]: _stale, ...rest } = labels;
  o.metadata.labels = { ...rest, [BACKUP_NAME_LABEL]: backup };
  return true;
}
