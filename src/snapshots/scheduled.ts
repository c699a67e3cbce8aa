// Snapshots a schedule makes: named `<schedule>-<UTC yyyymmdd-hhmmss>` and labelled with the
// schedule, so retention and `schedule describe` find them without listing every snapshot's
// contents.
import { defaultSnapshotName } from '../core/names.js';

export const SCHEDULE_LABEL = 'kubectl-snapshot/schedule';

/** Name of the snapshot a schedule run takes at `now`: `<schedule>-<UTC yyyymmdd-hhmmss>`. */
export function scheduledSnapshotName(schedule: string, now: Date): string {
  return defaultSnapshotName([schedule], false, now);
}

/** True for names scheduledSnapshotName makes for this schedule. */
export function isScheduledSnapshotName(schedule: string, name: string): boolean {
  const m = /^(.*)-\d{8}-\d{6}$/.exec(name);
  return m !== null && m[1] === scheduledSnapshotName(schedule, new Date(0)).slice(0, -16);
}
