// Cron expressions and time zones as Kubernetes validates them (robfig/cron v3 ParseStandard,
// time.LoadLocation), checked before anything is applied; and next-run times in a zone.
import { describe, expect, it } from 'vitest';
import { validateTimeZone } from '../../src/core/time-zone.js';
import { nextRuns, parseCron } from '../../src/schedule/cron.js';

describe('parseCron accepts what the CronJob controller accepts', () => {
  it.each([
    ['0 2 * * *', { minutes: [0], hours: [2] }],
    ['*/15 * * * *', { minutes: [0, 15, 30, 45] }],
    ['5/20 * * * *', { minutes: [5, 25, 45] }],
    ['0-10/5 * * * *', { minutes: [0, 5, 10] }],
    ['0,30 9-17 * * MON-FRI', { minutes: [0, 30], daysOfWeek: [1, 2, 3, 4, 5] }],
    ['0 0 1 jan,Jul *', { months: [1, 7], daysOfMonth: [1] }],
    ['0 0 ? * sun', { daysOfWeek: [0] }],
    ['0 0 1-31/10 * *', { daysOfMonth: [1, 11, 21, 31] }],
    ['  30   1 * *   *  ', { minutes: [30], hours: [1] }],
    ['@hourly', { minutes: [0], hours: Array.from({ length: 24 }, (_, i) => i) }],
    ['@daily', { minutes: [0], hours: [0] }],
    ['@midnight', { minutes: [0], hours: [0] }],
    ['@weekly', { daysOfWeek: [0] }],
    ['@monthly', { daysOfMonth: [1] }],
    ['@yearly', { months: [1], daysOfMonth: [1] }],
    ['@annually', { months: [1], daysOfMonth: [1] }],
  ])('%s', (expr, fields) => {
    const c = parseCron(expr);
    for (const [k, v] of Object.entries(fields))
      expect([...(c[k as keyof typeof c] as Set<number>)].sort((a, b) => a - b)).toEqual(v);
  });
});

describe('parseCron refuses, with the reason', () => {
  it.each([
    ['', /empty/],
    ['0 2 * *', /expected 5 fields, found 4/],
    ['0 0 2 * * *', /found 6 \(seconds are not supported\)/],
    ['60 * * * *', /"60" is outside 0-59 \(minute\)/],
    ['0 24 * * *', /outside 0-23 \(hour\)/],
    ['0 0 0 * *', /outside 1-31 \(day of month\)/],
    ['0 0 * 13 *', /outside 1-12 \(month\)/],
    ['0 0 * * 7', /outside 0-6 \(day of week\)/],
    ['*/0 * * * *', /step must be at least 1/],
    ['10-5 * * * *', /runs backwards/],
    ['1-2-3 * * * *', /too many "-"/],
    ['*/2/3 * * * *', /too many "\/"/],
    ['a * * * *', /"a" in the minute field is not a number/],
    ['0 0 * FOO *', /not a number or a name/],
    ['0 0 * * -1', /not a number/],
    ['1,,2 * * * *', /empty list item/],
    ['@DAILY', /unknown descriptor/],
    ['@reboot', /unknown descriptor/],
    ['@every 1h', /@every is not supported/],
    ['TZ=UTC 0 0 * * *', /time zone cannot be part of the schedule/],
    ['CRON_TZ=Europe/Berlin 0 0 * * *', /time zone cannot be part of the schedule/],
    ['0 0 30 2 *', /would never run/],
    ['0 0 31 4,6,9,11 *', /would never run/],
  ])('%j', (expr, message) => {
    expect(() => parseCron(expr)).toThrow(message);
  });

  it('names the fix in the hint', () => {
    try {
      parseCron('0 2 * *');
      expect.unreachable();
    } catch (err) {
      expect((err as { hint?: string }).hint).toMatch(/MINUTE HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK/);
    }
  });

  it('accepts 29 February (leap years) and a weekday with an impossible date', () => {
    expect(() => parseCron('0 0 29 2 *')).not.toThrow();
    // Day of month OR day of week: runs every Monday.
    expect(() => parseCron('0 0 30 2 MON')).not.toThrow();
  });
});

describe('validateTimeZone', () => {
  it.each(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'US/Pacific', 'Etc/GMT+5'])(
    'accepts %s',
    (tz) => expect(validateTimeZone(tz)).toBe(tz),
  );
  it.each([
    ['', /empty/],
    ['Local', /"Local" is not allowed/],
    ['Mars/Olympus_Mons', /unknown time zone/],
    ['europe/berlin', /case-sensitive/],
    ['utc', /case-sensitive/],
    ['+01:00', /invalid time zone/],
    ['Europe/../etc', /invalid time zone/],
    ['Europe/Berlin ', /invalid time zone/],
  ])('refuses %j', (tz, message) => {
    expect(() => validateTimeZone(tz)).toThrow(message);
  });
  it('suggests the right spelling', () => {
    try {
      validateTimeZone('europe/berlin');
      expect.unreachable();
    } catch (err) {
      expect((err as { hint?: string }).hint).toBe('did you mean Europe/Berlin?');
    }
  });
});

describe('nextRuns', () => {
  const at = (iso: string) => new Date(iso);
  const iso = (ds: Date[]) => ds.map((d) => d.toISOString());

  it.each([
    [
      '0 2 * * *',
      'UTC',
      '2026-11-24T10:00:00Z',
      ['2026-11-25T02:00:00.000Z', '2026-11-26T02:00:00.000Z'],
    ],
    // Berlin is UTC+1 in winter and UTC+2 in summer.
    [
      '0 2 * * *',
      'Europe/Berlin',
      '2026-11-24T10:00:00Z',
      ['2026-11-25T01:00:00.000Z', '2026-11-26T01:00:00.000Z'],
    ],
    [
      '0 2 * * *',
      'Europe/Berlin',
      '2026-07-01T10:00:00Z',
      ['2026-07-02T00:00:00.000Z', '2026-07-03T00:00:00.000Z'],
    ],
    [
      '*/15 * * * *',
      'UTC',
      '2026-11-24T10:07:30Z',
      ['2026-11-24T10:15:00.000Z', '2026-11-24T10:30:00.000Z'],
    ],
    // Strictly after: a time that matches exactly is not "next".
    [
      '0 * * * *',
      'UTC',
      '2026-11-24T10:00:00Z',
      ['2026-11-24T11:00:00.000Z', '2026-11-24T12:00:00.000Z'],
    ],
    // Day of month OR day of week when both are restricted: the 1st, and Mondays.
    [
      '0 0 1 * MON',
      'UTC',
      '2026-11-24T00:00:00Z',
      ['2026-11-30T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ],
    // AND when one of them is *: Mondays in December.
    [
      '0 0 * 12 MON',
      'UTC',
      '2026-11-24T00:00:00Z',
      ['2026-12-07T00:00:00.000Z', '2026-12-14T00:00:00.000Z'],
    ],
    // A step makes the field restricted: odd days of the month OR Sundays.
    [
      '0 0 */2 * SUN',
      'UTC',
      '2026-11-24T00:00:00Z',
      ['2026-11-25T00:00:00.000Z', '2026-11-27T00:00:00.000Z'],
    ],
    [
      '0 0 29 2 *',
      'UTC',
      '2026-11-24T00:00:00Z',
      ['2028-02-29T00:00:00.000Z', '2032-02-29T00:00:00.000Z'],
    ],
    [
      '30 0 * * *',
      'Asia/Kolkata',
      '2026-11-24T00:00:00Z',
      ['2026-11-24T19:00:00.000Z', '2026-11-25T19:00:00.000Z'],
    ],
    [
      '@monthly',
      'America/New_York',
      '2026-11-24T00:00:00Z',
      ['2026-12-01T05:00:00.000Z', '2027-01-01T05:00:00.000Z'],
    ],
    // Berlin springs forward on 29 March 2026 (02:00 → 03:00): a 00:30 run on that day is not lost.
    [
      '30 0 * * *',
      'Europe/Berlin',
      '2026-03-28T12:00:00Z',
      ['2026-03-28T23:30:00.000Z', '2026-03-29T22:30:00.000Z'],
    ],
  ])('%s in %s after %s', (expr, tz, after, expected) => {
    expect(iso(nextRuns(parseCron(expr), at(after), 2, tz))).toEqual(expected);
  });
});
