// --request-timeout, read as kubectl reads it; and how every single-valued flag takes the last
// of repeated values.
import { parseDuration } from '../core/duration.js';
import { UserError } from '../core/errors.js';

/** A single-valued flag given twice keeps its last value, as kubectl does. */
export const lastValue = (v: unknown) => (Array.isArray(v) ? v[v.length - 1] : v);

/** The longest wait a timer can hold (setTimeout's limit, about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * --request-timeout in milliseconds, read as kubectl reads it: `0` (no limit), plain seconds
 * (`30`) or a duration (`30s`, `1m`, `1m30s`, `500ms`). It limits silence, not a request's
 * length (core/http-timeouts.ts): a long download whose bytes keep coming is not cut.
 */
export function parseRequestTimeout(value: unknown): number {
  const text = String(lastValue(value)).trim();
  let ms = Number.NaN;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else if (/^0+(ms|s|m|h)$/.test(text)) ms = 0;
  else if (text !== '') {
    try {
      ms = parseDuration(text);
    } catch {
      // worded below, for this flag
    }
  }
  // yargs keeps only the message of a coerce error (a usage error), so it carries the advice.
  if (!Number.isFinite(ms)) {
    throw new UserError(
      `invalid --request-timeout "${text}": use a duration such as 30s or 1m30s, plain seconds (30), or 0 for no limit`,
    );
  }
  if (ms > MAX_TIMEOUT_MS) {
    throw new UserError(
      `--request-timeout "${text}" is too long: at most 24 days, or 0 for no limit`,
    );
  }
  return Math.ceil(ms);
}
