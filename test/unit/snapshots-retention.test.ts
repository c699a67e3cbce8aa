// Retention as restic's keep rules, table by table: which snapshots a policy keeps over a set
// of start times, with ties, time zones, daylight-saving changes, ISO weeks and expiry.
import { describe, expect, it } from 'vitest';
import {
  buckets,
  isoWeek,
  matchesSnapshotFilter,
  type PruneCandidate,
  type RetentionPolicy,
  selectForPrune,
  snapshotFilterRequirements,
  validatePolicy,
} from '../../src/snapshots/retention.js';

const snap = (
  name: string,
  startedAt: string,
  extra: Partial<PruneCandidate> = {},
): PruneCandidate => ({ name, startedAt, labels: {}, ...extra });

const NOW = new Date('2026-11-24T12:00:00Z');

// Newest first: two on 24 Nov, two on 23 Nov (one just before midnight UTC), one each on
// 22 Nov (Sunday, ISO week 47) and 16 Nov, 31 Oct, and 31 Dec 2025 (ISO week 2026-W01).
const SET = [
  snap('s8', '2025-12-31T12:00:00Z'),
  snap('s3', '2026-11-23T23:30:00Z'),
  snap('s1', '2026-11-24T10:00:00Z'),
  snap('s5', '2026-11-22T12:00:00Z'),
  snap('s2', '2026-11-24T09:00:00Z'),
  snap('s7', '2026-10-31T12:00:00Z'),
  snap('s4', '2026-11-23T12:00:00Z'),
  snap('s6', '2026-11-16T12:00:00Z'),
];

const policy = (
  keep: RetentionPolicy['keep'],
  timeZone = 'UTC',
  expired = false,
): RetentionPolicy => ({ keep, timeZone, expired });

const kept = (snaps: PruneCandidate[], p: RetentionPolicy, now = NOW) =>
  selectForPrune(snaps, p, now).keep.map((d) => d.snapshot.name);

describe('selectForPrune: keep rules over one set of start times', () => {
  it.each([
    ['keep-last 3', policy({ last: 3 }), ['s1', 's2', 's3']],
    [
      'keep-last 0 is no rule: nothing removed',
      policy({ last: 0 }),
      ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8'],
    ],
    [
      'keep-last more than there are',
      policy({ last: 20 }),
      ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8'],
    ],
    ['keep-hourly 3', policy({ hourly: 3 }), ['s1', 's2', 's3']],
    ['keep-daily 2 (UTC): newest of 24 and of 23 Nov', policy({ daily: 2 }), ['s1', 's3']],
    [
      'keep-daily 2 (Europe/Berlin): 23:30Z on the 23rd is already the 24th',
      policy({ daily: 2 }, 'Europe/Berlin'),
      ['s1', 's4'],
    ],
    [
      'keep-daily 2 (America/New_York): 10:00Z is still the morning of the 24th',
      policy({ daily: 2 }, 'America/New_York'),
      ['s1', 's3'],
    ],
    ['keep-daily 4', policy({ daily: 4 }), ['s1', 's3', 's5', 's6']],
    ['keep-weekly 3: ISO weeks 48, 47, 44', policy({ weekly: 3 }), ['s1', 's5', 's7']],
    [
      'keep-weekly 5: 31 Dec 2025 is ISO week 2026-W01',
      policy({ weekly: 5 }),
      ['s1', 's5', 's7', 's8'],
    ],
    ['keep-monthly 3', policy({ monthly: 3 }), ['s1', 's7', 's8']],
    ['keep-yearly 2', policy({ yearly: 2 }), ['s1', 's8']],
    ['keep-last 1 + keep-daily 3: the union', policy({ last: 1, daily: 3 }), ['s1', 's3', 's5']],
    ['keep-last 2 + keep-monthly 2', policy({ last: 2, monthly: 2 }), ['s1', 's2', 's7']],
  ])('%s', (_title, p, expected) => {
    const r = selectForPrune(SET, p, NOW);
    expect(r.keep.map((d) => d.snapshot.name)).toEqual(expected);
    // Every snapshot is decided exactly once.
    expect([...r.keep, ...r.remove].map((d) => d.snapshot.name).sort()).toEqual(
      SET.map((s) => s.name).sort(),
    );
  });

  it('gives restic-style reasons: the rules that keep each snapshot, and why others go', () => {
    const r = selectForPrune(SET, policy({ last: 1, daily: 2, monthly: 2 }), NOW);
    expect(r.keep.map((d) => [d.snapshot.name, d.reasons])).toEqual([
      ['s1', ['last', 'daily 2026-11-24', 'monthly 2026-11']],
      ['s3', ['daily 2026-11-23']],
      ['s7', ['monthly 2026-10']],
    ]);
    expect(r.remove[0]).toEqual({
      snapshot: SET.find((s) => s.name === 's2'),
      reasons: ['not kept by keep-last 1, keep-daily 2, keep-monthly 2'],
    });
    // Both lists newest first.
    expect(r.remove.map((d) => d.snapshot.name)).toEqual(['s2', 's4', 's5', 's6', 's8']);
  });

  it('does not depend on the order snapshots are listed in', () => {
    const p = policy({ last: 1, daily: 3, weekly: 2 }, 'Asia/Tokyo');
    expect(kept([...SET].reverse(), p)).toEqual(kept(SET, p));
  });
});

describe('selectForPrune: ties', () => {
  const t = '2026-11-24T08:00:00Z';
  it.each([
    [
      'equal start times: the later name counts as newer for keep-last',
      [snap('nightly-a', t), snap('nightly-b', t), snap('nightly-c', '2026-11-24T07:00:00Z')],
      policy({ last: 1 }),
      ['nightly-b'],
    ],
    [
      'equal start times share one daily bucket: one of them is kept',
      [snap('x-1', t), snap('x-2', t)],
      policy({ daily: 7 }),
      ['x-2'],
    ],
    [
      'equal start times: keep-last 2 keeps both',
      [snap('x-1', t), snap('x-2', t), snap('x-0', '2026-11-24T07:00:00Z')],
      policy({ last: 2 }),
      ['x-2', 'x-1'],
    ],
    [
      'three on one day, keep-daily 1: only the newest',
      [
        snap('d1', '2026-11-24T01:00:00Z'),
        snap('d3', '2026-11-24T23:00:00Z'),
        snap('d2', '2026-11-24T12:00:00Z'),
      ],
      policy({ daily: 1 }),
      ['d3'],
    ],
    [
      'one per day, keep-daily 2 counts days that have a snapshot, not calendar days',
      [
        snap('mon', '2026-11-23T12:00:00Z'),
        snap('thu', '2026-11-19T12:00:00Z'),
        snap('sun', '2026-11-15T12:00:00Z'),
      ],
      policy({ daily: 2 }),
      ['mon', 'thu'],
    ],
  ])('%s', (_title, snaps, p, expected) => {
    expect(kept(snaps, p)).toEqual(expected);
  });
});

describe('selectForPrune: time zones and daylight saving', () => {
  // New York falls back on 1 Nov 2026 at 02:00 EDT: 01:00-01:59 happens twice.
  const fallBack = [
    snap('a', '2026-11-01T04:30:00Z'), // 00:30 EDT
    snap('b', '2026-11-01T05:30:00Z'), // 01:30 EDT
    snap('c', '2026-11-01T06:30:00Z'), // 01:30 EST: the same wall-clock hour as b
  ];
  it.each([
    ['UTC: three distinct hours', fallBack, policy({ hourly: 2 }), ['c', 'b']],
    [
      'America/New_York: the repeated hour is one bucket',
      fallBack,
      policy({ hourly: 2 }, 'America/New_York'),
      ['c', 'a'],
    ],
    [
      'weekly, Sunday 23:30 UTC is Monday in Berlin (next ISO week)',
      [snap('sun-night', '2026-11-22T23:30:00Z'), snap('sun-noon', '2026-11-22T12:00:00Z')],
      policy({ weekly: 2 }, 'Europe/Berlin'),
      ['sun-night', 'sun-noon'],
    ],
    [
      'weekly, the same two in UTC are one ISO week',
      [snap('sun-night', '2026-11-22T23:30:00Z'), snap('sun-noon', '2026-11-22T12:00:00Z')],
      policy({ weekly: 2 }),
      ['sun-night'],
    ],
    [
      'monthly, 31 Oct 23:30 UTC is November in Tokyo',
      [snap('oct-late', '2026-10-31T23:30:00Z'), snap('nov', '2026-11-02T00:00:00Z')],
      policy({ monthly: 2 }, 'Asia/Tokyo'),
      ['nov'],
    ],
    [
      'monthly, but in UTC they are two months',
      [snap('oct-late', '2026-10-31T23:30:00Z'), snap('nov', '2026-11-02T00:00:00Z')],
      policy({ monthly: 2 }),
      ['nov', 'oct-late'],
    ],
    [
      'a half-hour zone (Asia/Kolkata, UTC+5:30): 18:45Z is already tomorrow',
      [snap('late', '2026-11-23T18:45:00Z'), snap('early', '2026-11-23T18:15:00Z')],
      policy({ daily: 2 }, 'Asia/Kolkata'),
      ['late', 'early'],
    ],
  ])('%s', (_title, snaps, p, expected) => {
    expect(kept(snaps, p)).toEqual(expected);
  });
});

describe('selectForPrune: expiry', () => {
  const snaps = [
    snap('old-expired', '2026-11-20T00:00:00Z', { expiresAt: '2026-11-21T00:00:00Z' }),
    snap('new-expired', '2026-11-24T00:00:00Z', { expiresAt: '2026-11-24T11:00:00Z' }),
    snap('valid', '2026-11-23T00:00:00Z', { expiresAt: '2026-12-23T00:00:00Z' }),
    snap('forever', '2026-11-22T00:00:00Z'),
    snap('exactly-now', '2026-11-21T00:00:00Z', { expiresAt: NOW.toISOString() }),
  ];

  it('removes what has expired (expiry at exactly now counts), whatever the keep rules say, but the newest snapshot', () => {
    const r = selectForPrune(snaps, policy({ last: 10 }, 'UTC', true), NOW);
    expect(r.remove.map((d) => [d.snapshot.name, d.reasons])).toEqual([
      ['exactly-now', [`expired at ${NOW.toISOString()}`]],
      ['old-expired', ['expired at 2026-11-21T00:00:00Z']],
    ]);
    expect(r.keep.map((d) => [d.snapshot.name, d.reasons[0]])).toEqual([
      ['new-expired', 'the newest complete snapshot, always kept'],
      ['valid', 'last'],
      ['forever', 'last'],
    ]);
  });

  it('counts keep rules among the snapshots that have not expired', () => {
    expect(kept(snaps, policy({ last: 1 }, 'UTC', true))).toEqual(['new-expired', 'valid']);
  });

  it('without --expired, an expired snapshot is an ordinary one', () => {
    expect(kept(snaps, policy({ last: 1 }))).toEqual(['new-expired']);
  });

  it('with only --expired, everything else stays', () => {
    const r = selectForPrune(snaps, policy({}, 'UTC', true), NOW);
    expect(r.keep.map((d) => [d.snapshot.name, d.reasons[0]])).toEqual([
      ['new-expired', 'the newest complete snapshot, always kept'],
      ['valid', 'expires at 2026-12-23T00:00:00Z'],
      ['forever', 'no keep rule given'],
    ]);
  });

  it('never removes a snapshot whose start time it cannot read', () => {
    const r = selectForPrune(
      [snap('broken', 'yesterday'), snap('ok', '2026-11-24T00:00:00Z')],
      policy({ last: 1 }),
      NOW,
    );
    expect(r.keep.map((d) => d.snapshot.name)).toEqual(['ok', 'broken']);
    expect(r.remove).toEqual([]);
  });
});

describe('calendar buckets', () => {
  it.each([
    [2026, 1, 1, '2026-W01'],
    [2027, 1, 1, '2026-W53'],
    [2024, 12, 30, '2025-W01'],
    [2021, 1, 3, '2020-W53'],
    [2026, 11, 22, '2026-W47'],
    [2026, 11, 23, '2026-W48'],
  ])('ISO week of %i-%i-%i is %s', (y, m, d, expected) => {
    const w = isoWeek(y, m, d);
    expect(`${w.year}-W${String(w.week).padStart(2, '0')}`).toBe(expected);
  });

  it('buckets an instant on the wall clock of the zone', () => {
    expect(buckets(new Date('2026-12-31T23:30:00Z'), 'UTC')).toEqual({
      hourly: '2026-12-31 23h',
      daily: '2026-12-31',
      weekly: '2026-W53',
      monthly: '2026-12',
      yearly: '2026',
    });
    expect(buckets(new Date('2026-12-31T23:30:00Z'), 'Europe/Berlin')).toEqual({
      hourly: '2027-01-01 00h',
      daily: '2027-01-01',
      weekly: '2026-W53',
      monthly: '2027-01',
      yearly: '2027',
    });
  });
});

describe('policy and filter validation', () => {
  it.each([
    [{ keep: { last: -1 }, expired: false, timeZone: 'UTC' }, /--keep-last must be a whole number/],
    [
      { keep: { daily: 1.5 }, expired: false, timeZone: 'UTC' },
      /--keep-daily must be a whole number/,
    ],
    [{ keep: { weekly: Number.NaN }, expired: false, timeZone: 'UTC' }, /--keep-weekly/],
    [{ keep: { last: 1 }, expired: false, timeZone: 'Mars/Base' }, /unknown time zone/],
  ])('%j is refused', (p, message) => {
    expect(() => validatePolicy(p as RetentionPolicy)).toThrow(message);
  });

  it('filters snapshots by schedule label and selector', () => {
    const reqs = snapshotFilterRequirements({ schedule: 'nightly', selector: 'team in (a,b)' });
    expect(matchesSnapshotFilter({ 'kubectl-snapshot/schedule': 'nightly', team: 'a' }, reqs)).toBe(
      true,
    );
    expect(matchesSnapshotFilter({ 'kubectl-snapshot/schedule': 'nightly' }, reqs)).toBe(false);
    expect(matchesSnapshotFilter({ 'kubectl-snapshot/schedule': 'weekly', team: 'a' }, reqs)).toBe(
      false,
    );
    expect(matchesSnapshotFilter(undefined, snapshotFilterRequirements({}))).toBe(true);
    expect(() => snapshotFilterRequirements({ selector: 'a in b' })).toThrow(/label selector/);
  });
});

describe('selectForPrune: partial snapshots never push out complete ones', () => {
  const partial = { phase: 'PartiallyFailed' as const };
  // Two good nightly runs, then the schedule lost its rights: two partial runs.
  const runs = [
    snap('good-1', '2026-11-21T02:00:00Z'),
    snap('good-2', '2026-11-22T02:00:00Z'),
    snap('partial-1', '2026-11-23T02:00:00Z', partial),
    snap('partial-2', '2026-11-24T02:00:00Z', partial),
  ];

  it('keep-last counts only complete snapshots; partial ones newer than all of them stay too', () => {
    const r = selectForPrune(runs, policy({ last: 2 }), NOW);
    expect(r.keep.map((d) => [d.snapshot.name, d.reasons[0]])).toEqual([
      ['partial-2', 'partial; no complete snapshot is newer'],
      ['partial-1', 'partial; no complete snapshot is newer'],
      ['good-2', 'last'],
      ['good-1', 'last'],
    ]);
    expect(r.remove).toEqual([]);
  });

  it('removes a partial snapshot once a complete one is newer', () => {
    const r = selectForPrune(
      [...runs, snap('good-3', '2026-11-24T10:00:00Z')],
      policy({ last: 2 }),
      NOW,
    );
    expect(r.remove.map((d) => [d.snapshot.name, d.reasons[0]])).toEqual([
      ['partial-2', 'partial; the complete snapshot good-3 is newer'],
      ['partial-1', 'partial; the complete snapshot good-3 is newer'],
      ['good-1', 'not kept by keep-last 2'],
    ]);
  });

  it('keeps the newest complete snapshot even when it has expired', () => {
    const expired = runs.map((r) => ({ ...r, expiresAt: '2026-11-24T03:00:00Z' }));
    const r = selectForPrune(expired, policy({}, 'UTC', true), NOW);
    expect(r.keep.map((d) => d.snapshot.name)).toEqual(['good-2']);
    expect(r.remove.map((d) => d.snapshot.name)).toEqual(['partial-2', 'partial-1', 'good-1']);
  });
});
