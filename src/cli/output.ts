// Output formatting: human tables, and stable JSON/YAML for scripts.
import Table from 'cli-table3';
import { UserError } from '../core/errors.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

export function parseOutput(
  value: string | undefined,
  allowed: OutputFormat[] = ['table', 'json', 'yaml'],
): OutputFormat {
  const v = (value ?? 'table') as OutputFormat;
  if (!allowed.includes(v)) {
    throw new UserError(
      `unsupported output format "${value}"`,
      `use one of: ${allowed.join(', ')}`,
    );
  }
  return v;
}

export async function formatData(data: unknown, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  const yaml = await import('js-yaml');
  return yaml.dump(data, { noRefs: true, lineWidth: -1 });
}

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head,
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 0 },
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '   ',
    },
  });
  for (const r of rows) t.push(r.map(String));
  // cli-table3 pads cells with one space on each side; kubectl's tables start flush left.
  return `${t
    .toString()
    .split('\n')
    .map((l) => l.replace(/^ /, '').trimEnd())
    .join('\n')}\n`;
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** kubectl-style age: 5s, 3m, 2h, 4d. */
export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '<none>';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  const abs = Math.abs(s);
  const v =
    abs < 120
      ? `${abs}s`
      : abs < 7200
        ? `${Math.floor(abs / 60)}m`
        : abs < 172800
          ? `${Math.floor(abs / 3600)}h`
          : `${Math.floor(abs / 86400)}d`;
  return s < 0 ? `in ${v}` : v;
}
