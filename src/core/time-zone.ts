// Time zones as the API server accepts them, and the wall clock of an instant in one: what
// CronJob schedules and the calendar-based keep rules of retention are evaluated on.
import { UserError } from './errors.js';

const TZ_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

/**
 * Validates an IANA time zone name the way the API server does (Go's time.LoadLocation plus
 * its character rules), using the ICU data of Intl. Intl matches names case-insensitively
 * and Go does not, so a name in the wrong case is refused with the right spelling.
 */
export function validateTimeZone(tz: string): string {
  const hint =
    'use an IANA time zone name such as UTC, Europe/Berlin or America/New_York ' +
    '(see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones)';
  if (tz.trim() === '') throw new UserError('--time-zone is empty', hint);
  if (tz.toLowerCase() === 'local') {
    throw new UserError(
      'time zone "Local" is not allowed: it would mean the controller manager\'s own zone',
      hint,
    );
  }
  for (const part of tz.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !TZ_PART.test(part)) {
      throw new UserError(`invalid time zone "${tz}"`, hint);
    }
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new UserError(`unknown time zone "${tz}"`, hint);
  }
  const canonical = Intl.supportedValuesOf('timeZone');
  if (!canonical.includes(tz)) {
    const sameButCase = canonical.find((c) => c.toLowerCase() === tz.toLowerCase());
    const lowercasePart = tz.split('/').some((p) => !/^[A-Z]/.test(p));
    if (sameButCase || lowercasePart) {
      const resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions()
        .timeZone;
      throw new UserError(
        `unknown time zone "${tz}": time zone names are case-sensitive`,
        `did you mean ${sameButCase ?? resolved}?`,
      );
    }
  }
  return tz;
}

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of an instant in a time zone. */
export function wallClock(date: Date, timeZone: string): WallClock {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  const out: Record<string, string> = {};
  for (const p of f.formatToParts(date)) out[p.type] = p.value;
  return {
    year: Number(out.year),
    month: Number(out.month),
    day: Number(out.day),
    hour: Number(out.hour),
    minute: Number(out.minute),
    weekday: WEEKDAYS[out.weekday ?? ''] ?? 0,
  };
}
