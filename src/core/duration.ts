import { UserError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses Go-style durations as Velero and kubectl users write them: `720h`, `1h30m`, `7d`, `90s`. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    consumed += m[0].length;
  }
  if (text.length === 0 || consumed !== text.length || total <= 0) {
    throw new UserError(
      `invalid duration "${text}"`,
      'use a positive duration such as 720h, 7d or 1h30m',
    );
  }
  return total;
}
