// Which snapshots `prune` removes: restic's keep rules (last, hourly, daily, weekly, monthly,
// yearly) over the snapshots' start times on the wall clock of one time zone, plus expiry
// (`backup --ttl`). Pure: the runner lists and deletes.
import { UserError } from '../core/errors.js';
import { matchesSelector, parseSelector, type Requirement } from '../core/selectors.js';
import { validateTimeZone, wallClock } from '../core/time-zone.js';
import type { SnapshotManifest } from '../core/types.js';
import { SCHEDULE_LABEL } from './scheduled.js';

export const KEEP_RULES = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export type KeepRule = (typeof KEEP_RULES)[number];

export interface RetentionPolicy {
  /** How many snapshots each rule keeps; a rule that is absent or 0 keeps none. */
  keep: Partial<Record<KeepRule, number>>;
  /** Remove snapshots whose expiresAt has passed. */
  expired: boolean;
  /** Whose calendar defines hours, days, weeks, months and years. */
  timeZone: string;
}

/** The snapshot fields the decision reads. */
export type PruneCandidate = Pick<
  SnapshotManifest,
  'name' | 'startedAt' | 'expiresAt' | 'labels' | 'phase'
>;

/**
 * A snapshot retention may count: one that holds everything its backup selected. A partial
 * one (some types could not be read) is no substitute for it.
 */
export function isComplete(s: Pick<SnapshotManifest, 'phase'>): boolean {
  return s.phase !== 'PartiallyFailed';
}

export interface Decision<T extends PruneCandidate = PruneCandidate> {
  snapshot: T;
  /** Why it is kept (`last`, `daily 2026-11-24`, …) or removed (`expired …`, `not kept …`). */
  reasons: string[];
}

export interface PruneSelection<T extends PruneCandidate = PruneCandidate> {
  /** Newest first. */
  keep: Decision<T>[];
  /** Newest first. */
  remove: Decision<T>[];
}

export function hasKeepRules(policy: RetentionPolicy): boolean {
  return KEEP_RULES.some((r) => (policy.keep[r] ?? 0) > 0);
}

/** `keep-last 3, keep-daily 7` */
export function describePolicy(policy: RetentionPolicy): string {
  const parts = KEEP_RULES.filter((r) => (policy.keep[r] ?? 0) > 0).map(
    (r) => `keep-${r} ${policy.keep[r]}`,
  );
  if (policy.expired) parts.push('expired');
  return parts.join(', ') || 'none';
}

/** Checks counts and the time zone; throws a UserError naming the flag. */
export function validatePolicy(policy: RetentionPolicy): void {
  for (const r of KEEP_RULES) {
    const n = policy.keep[r];
    if (n !== undefined && (!Number.isInteger(n) || n < 0)) {
      throw new UserError(`--keep-${r} must be a whole number of snapshots, not "${n}"`);
    }
  }
  validateTimeZone(policy.timeZone);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** ISO 8601 week of a calendar date: weeks start on Monday, week 1 holds the first Thursday. */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const d = new Date(Date.UTC(year, month - 1, day));
  const weekday = d.getUTCDay() || 7; // Monday 1 … Sunday 7
  d.setUTCDate(d.getUTCDate() + 4 - weekday); // the Thursday of this week
  const weekYear = d.getUTCFullYear();
  const week = Math.ceil(((d.getTime() - Date.UTC(weekYear, 0, 1)) / 86_400_000 + 1) / 7);
  return { year: weekYear, week };
}

/** The bucket of a time for each calendar rule, on the wall clock of `timeZone`. */
export function buckets(date: Date, timeZone: string): Record<Exclude<KeepRule, 'last'>, string> {
  const w = wallClock(date, timeZone);
  const day = `${w.year}-${pad(w.month)}-${pad(w.day)}`;
  const iw = isoWeek(w.year, w.month, w.day);
  return {
    hourly: `${day} ${pad(w.hour)}h`,
    daily: day,
    weekly: `${iw.year}-W${pad(iw.week)}`,
    monthly: `${w.year}-${pad(w.month)}`,
    yearly: String(w.year),
  };
}

/** Newest first; equal start times are ordered by name, the later name counting as newer. */
function newestFirst<T extends PruneCandidate>(a: T, b: T): number {
  // Unreadable times sort last (they are kept anyway, and must not disturb the order).
  const time = (s: T) => {
    const t = Date.parse(s.startedAt);
    return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
  };
  const ta = time(a);
  const tb = time(b);
  if (ta !== tb) return tb > ta ? 1 : -1;
  return a.name < b.name ? 1 : a.name > b.name ? -1 : 0;
}

/**
 * Decides, like `restic forget`, which snapshots stay. Expired snapshots go first when
 * `policy.expired` (the TTL given at backup time is a promise; keep rules do not override
 * it); the keep rules then run over the rest, newest first: each rule keeps the newest
 * snapshot of each of its N most recent buckets (hours, days, … in the policy's time zone;
 * `last` keeps the N newest). A snapshot kept by no rule is removed. Without keep rules
 * nothing but expired snapshots is removed. A snapshot with an unreadable start time is
 * always kept: nothing is deleted on a guess.
 *
 * Only complete snapshots count for the keep rules: a run of partial backups (rights lost,
 * a namespace emptied by mistake) must not push the good ones out. A partial snapshot stays
 * while no complete one is newer. The newest complete snapshot is never removed, expired or
 * not: a location is never left without one.
 */
export function selectForPrune<T extends PruneCandidate>(
  snapshots: readonly T[],
  policy: RetentionPolicy,
  now: Date,
): PruneSelection<T> {
  const keep: Decision<T>[] = [];
  const remove: Decision<T>[] = [];
  const sorted = [...snapshots].sort(newestFirst);
  const rules = KEEP_RULES.filter((r) => (policy.keep[r] ?? 0) > 0);
  const left = new Map(rules.map((r) => [r, policy.keep[r] as number]));
  const lastBucket = new Map<KeepRule, string>();
  const readable = (s: T) => !Number.isNaN(Date.parse(s.startedAt));
  const newestComplete = sorted.find((s) => readable(s) && isComplete(s));
  const newest = (s: T): Decision<T> => ({
    snapshot: s,
    reasons: ['the newest complete snapshot, always kept'],
  });
  let index = 0;
  for (const s of sorted) {
    const started = Date.parse(s.startedAt);
    if (Number.isNaN(started)) {
      keep.push({ snapshot: s, reasons: [`start time "${s.startedAt}" unreadable`] });
      continue;
    }
    if (policy.expired && s.expiresAt !== undefined) {
      const expires = Date.parse(s.expiresAt);
      if (!Number.isNaN(expires) && expires <= now.getTime()) {
        if (s === newestComplete) keep.push(newest(s));
        else remove.push({ snapshot: s, reasons: [`expired at ${s.expiresAt}`] });
        continue;
      }
    }
    if (!isComplete(s)) {
      if (newestComplete && newestFirst(s, newestComplete) > 0)
        remove.push({
          snapshot: s,
          reasons: [`partial; the complete snapshot ${newestComplete.name} is newer`],
        });
      else keep.push({ snapshot: s, reasons: ['partial; no complete snapshot is newer'] });
      continue;
    }
    if (rules.length === 0) {
      keep.push({
        snapshot: s,
        reasons: [s.expiresAt ? `expires at ${s.expiresAt}` : 'no keep rule given'],
      });
      continue;
    }
    const b = buckets(new Date(started), policy.timeZone);
    const reasons: string[] = [];
    for (const rule of rules) {
      if ((left.get(rule) ?? 0) <= 0) continue;
      const bucket = rule === 'last' ? `#${index}` : b[rule];
      if (lastBucket.get(rule) === bucket) continue;
      lastBucket.set(rule, bucket);
      left.set(rule, (left.get(rule) ?? 0) - 1);
      reasons.push(rule === 'last' ? 'last' : `${rule} ${bucket}`);
    }
    index++;
    if (reasons.length > 0) keep.push({ snapshot: s, reasons });
    else
      remove.push({
        snapshot: s,
        reasons: [`not kept by ${describePolicy({ ...policy, expired: false })}`],
      });
  }
  return { keep, remove };
}

// ---- which snapshots a prune looks at --------------------------------------------------

/** Snapshot label filter: `--schedule NAME` and/or `-l SELECTOR` (kubectl syntax). */
export interface SnapshotFilter {
  schedule?: string;
  selector?: string;
}

export function snapshotFilterRequirements(filter: SnapshotFilter): Requirement[] {
  const reqs: Requirement[] = filter.selector ? parseSelector(filter.selector) : [];
  if (filter.schedule !== undefined)
    reqs.push({ key: SCHEDULE_LABEL, op: 'in', values: [filter.schedule] });
  return reqs;
}

export function matchesSnapshotFilter(
  labels: Record<string, string> | undefined,
  reqs: Requirement[],
): boolean {
  return matchesSelector(reqs, labels);
}
