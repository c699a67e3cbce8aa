// Cron expressions as the Kubernetes CronJob controller reads them (robfig/cron v3,
// ParseStandard): five fields, names, ranges, steps and @descriptors; plus time zones as the
// API server validates them. Validated here, before anything is applied, so a typo is a clear
// error rather than a half-created schedule. Pure: no I/O.
import { UserError } from '../core/errors.js';
import { type WallClock, wallClock } from '../core/time-zone.js';

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MINUTE: Bounds = { min: 0, max: 59 };
const HOUR: Bounds = { min: 0, max: 23 };
const DOM: Bounds = { min: 1, max: 31 };
const MONTH: Bounds = {
  min: 1,
  max: 12,
  names: {
    jan: 1,
    feb: 2,
    mar: 3,
    apr: 4,
    may: 5,
    jun: 6,
    jul: 7,
    aug: 8,
    sep: 9,
    oct: 10,
    nov: 11,
    dec: 12,
  },
};
// robfig/cron v3 (and so Kubernetes) allows 0-6 only: 7 is not Sunday there.
const DOW: Bounds = {
  min: 0,
  max: 6,
  names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 },
};

const FIELDS = [
  ['minute', MINUTE],
  ['hour', HOUR],
  ['day of month', DOM],
  ['month', MONTH],
  ['day of week', DOW],
] as const;

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export interface CronSchedule {
  /** The expression as given (trimmed). */
  expression: string;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  daysOfWeek: ReadonlySet<number>;
  /** `*` or `?` (without a step > 1): cron's rule for combining day of month and day of week. */
  domStar: boolean;
  dowStar: boolean;
}

const HINT =
  'use five fields "MINUTE HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK", e.g. "0 2 * * *" (02:00 every day), ' +
  '"*/15 * * * *", "30 1 * * MON-FRI", or @hourly, @daily, @weekly, @monthly, @yearly';

function bad(expr: string, why: string): UserError {
  return new UserError(`invalid cron schedule "${expr}": ${why}`, HINT);
}

function parseNumber(text: string, b: Bounds, field: string, expr: string): number {
  const named = b.names?.[text.toLowerCase()];
  if (named !== undefined) return named;
  if (!/^\d+$/.test(text)) {
    throw bad(
      expr,
      `"${text}" in the ${field} field is not a number${b.names ? ' or a name' : ''}`,
    );
  }
  return Number(text);
}

function parseField(
  text: string,
  b: Bounds,
  field: string,
  expr: string,
): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  let star = false;
  if (text === '') throw bad(expr, `the ${field} field is empty`);
  for (const part of text.split(',')) {
    if (part === '') throw bad(expr, `empty list item in the ${field} field`);
    const slash = part.split('/');
    if (slash.length > 2) throw bad(expr, `too many "/" in "${part}" (${field})`);
    const [range = '', stepText] = slash;
    const dash = range.split('-');
    if (dash.length > 2) throw bad(expr, `too many "-" in "${part}" (${field})`);
    let start: number;
    let end: number;
    let isStar = false;
    if (range === '*' || range === '?') {
      start = b.min;
      end = b.max;
      isStar = true;
    } else {
      start = parseNumber(dash[0] ?? '', b, field, expr);
      end = dash.length === 2 ? parseNumber(dash[1] ?? '', b, field, expr) : start;
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText)) throw bad(expr, `step "${stepText}" is not a number (${field})`);
      step = Number(stepText);
      if (step === 0) throw bad(expr, `a step must be at least 1 ("${part}", ${field})`);
      // "N/step" means "N-max/step".
      if (!isStar && dash.length === 1) end = b.max;
      if (step > 1) isStar = false;
    }
    if (start < b.min || end > b.max) {
      throw bad(expr, `"${part}" is outside ${b.min}-${b.max} (${field})`);
    }
    if (start > end) throw bad(expr, `range "${part}" runs backwards (${field})`);
    for (let v = start; v <= end; v += step) values.add(v);
    if (isStar) star = true;
  }
  return { values, star };
}

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Parses and validates a cron expression; throws a UserError that says what is wrong. */
export function parseCron(expression: string): CronSchedule {
  const expr = expression.trim();
  if (expr === '') throw bad(expression, 'it is empty');
  if (/^(CRON_)?TZ=/i.test(expr)) {
    throw new UserError(
      `invalid cron schedule "${expr}": a time zone cannot be part of the schedule`,
      'pass it separately with --time-zone, e.g. --time-zone Europe/Berlin',
    );
  }
  let spec = expr;
  if (expr.startsWith('@')) {
    // Case-sensitive, as in Kubernetes: @DAILY is refused there.
    const d = DESCRIPTORS[expr];
    if (!d) {
      throw bad(
        expr,
        expr.startsWith('@every')
          ? '@every is not supported; write the interval as cron fields, e.g. "*/30 * * * *"'
          : `unknown descriptor ${expr}`,
      );
    }
    spec = d;
  }
  const parts = spec.split(/\s+/);
  if (parts.length !== 5) {
    throw bad(
      expr,
      `expected 5 fields, found ${parts.length}${parts.length === 6 ? ' (seconds are not supported)' : ''}`,
    );
  }
  const [minute, hour, dom, month, dow] = FIELDS.map(([field, b], i) =>
    parseField(parts[i] as string, b, field, expr),
  ) as [
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
  ];
  const schedule: CronSchedule = {
    expression: expr,
    minutes: minute.values,
    hours: hour.values,
    daysOfMonth: dom.values,
    months: month.values,
    daysOfWeek: dow.values,
    domStar: dom.star,
    dowStar: dow.star,
  };
  // "0 0 30 2 *" is accepted by Kubernetes and never runs: refuse it here.
  if (!dom.star && dow.star) {
    const possible = [...month.values].some((m) =>
      [...dom.values].some((d) => d <= (DAYS_IN_MONTH[m] ?? 31)),
    );
    if (!possible) throw bad(expr, 'no month has that day, so it would never run');
  }
  return schedule;
}

function dayMatches(s: CronSchedule, w: WallClock): boolean {
  const dom = s.daysOfMonth.has(w.day);
  const dow = s.daysOfWeek.has(w.weekday);
  return s.domStar || s.dowStar ? dom && dow : dom || dow;
}

const MINUTE_MS = 60_000;

/**
 * The next instants after `after` at which the schedule fires, evaluated on the wall clock of
 * `timeZone` (UTC when absent, as a CronJob without timeZone on a UTC controller manager).
 * Around daylight-saving changes the controller may differ by the skipped or repeated hour.
 */
export function nextRuns(schedule: CronSchedule, after: Date, count = 1, timeZone = 'UTC'): Date[] {
  const out: Date[] = [];
  let t = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  // Bounded: the rarest valid schedule (29 February on a given weekday) fires within 28 years.
  for (let i = 0; i < 2_000_000 && out.length < count; i++) {
    const w = wallClock(new Date(t), timeZone);
    if (!schedule.months.has(w.month) || !dayMatches(schedule, w)) {
      const toMidnight = (24 - w.hour) * 60 - w.minute;
      // Stop two hours short of midnight: a daylight-saving day may be an hour shorter.
      t += (toMidnight > 180 ? toMidnight - 120 : 60 - w.minute) * MINUTE_MS;
      continue;
    }
    if (!schedule.hours.has(w.hour)) {
      t += (60 - w.minute) * MINUTE_MS;
      continue;
    }
    if (!schedule.minutes.has(w.minute)) {
      let next = w.minute + 1;
      while (next < 60 && !schedule.minutes.has(next)) next++;
      t += (next - w.minute) * MINUTE_MS;
      continue;
    }
    out.push(new Date(t));
    t += MINUTE_MS;
  }
  return out;
}

/**
 * The next `count` runs after `now` as ISO 8601 (UTC), on the wall clock of `timeZone` (UTC
 * without one). What a CronJob holds is shown, not refused: an expression or time zone that
 * does not parse has no runs.
 */
export function upcomingRuns(
  schedule: string | CronSchedule,
  count: number,
  timeZone: string | undefined,
  now = new Date(),
): string[] {
  try {
    const parsed = typeof schedule === 'string' ? parseCron(schedule) : schedule;
    return nextRuns(parsed, now, count, timeZone ?? 'UTC').map((d) => d.toISOString());
  } catch {
    return [];
  }
}
