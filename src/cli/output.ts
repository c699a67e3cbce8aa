// Output formatting: human tables, and stable JSON/YAML for scripts.
import Table from 'cli-table3';
import { UserError } from '../core/errors.js';
import type { Selection } from '../core/types.js';

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

/** What JSON.stringify leaves out of an object and writes as null in an array. */
function unrepresentable(x: unknown): boolean {
  return x === undefined || typeof x === 'function' || typeof x === 'symbol';
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * `JSON.stringify(data, null, 2)`, in pieces: the top levels piece by piece, each element of
 * their arrays (and below) whole. A 50,000-object restore report is one 12 MB string
 * otherwise, held twice (as a string and as bytes) while it is written.
 */
export function* jsonPieces(data: unknown, indent = '', depth = 0): Generator<string> {
  const inner = `${indent}  `;
  if (depth < 2 && Array.isArray(data) && data.length > 0) {
    yield '[';
    for (let i = 0; i < data.length; i++) {
      yield `${i ? ',' : ''}\n${inner}`;
      const x = data[i];
      yield* unrepresentable(x) ? ['null'] : jsonPieces(x, inner, depth + 1);
    }
    yield `\n${indent}]`;
  } else if (depth < 2 && isPlain(data) && typeof data.toJSON !== 'function') {
    const keys = Object.keys(data).filter((k) => !unrepresentable(data[k]));
    if (keys.length === 0) {
      yield '{}';
      return;
    }
    yield '{';
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      yield `${i ? ',' : ''}\n${inner}${JSON.stringify(k)}: `;
      yield* jsonPieces(data[k], inner, depth + 1);
    }
    yield `\n${indent}}`;
  } else {
    // JSON strings hold no raw newline, so re-indenting the lines is safe.
    yield (JSON.stringify(data, null, 2) ?? 'null').replaceAll('\n', `\n${indent}`);
  }
}

/** Writes data as formatData does, JSON in pieces of about 64 KiB, waiting when told to. */
export async function writeData(
  out: NodeJS.WritableStream,
  data: unknown,
  format: 'json' | 'yaml',
): Promise<void> {
  if (format === 'yaml') {
    out.write(await formatData(data, format));
    return;
  }
  let batch = '';
  const flush = async () => {
    if (!out.write(batch)) await new Promise((r) => out.once('drain', r));
    batch = '';
  };
  for (const piece of jsonPieces(data)) {
    batch += piece;
    if (batch.length >= 65536) await flush();
  }
  batch += '\n';
  await flush();
}

export async function formatData(data: unknown, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  const yaml = await import('js-yaml');
  return yaml.dump(data, { noRefs: true, lineWidth: -1 });
}

// Escape sequences whole (CSI, OSC/DCS/APC/PM/SOS strings, two-character ESC sequences, and
// their 8-bit C1 forms), then any control character left: C0, DEL, C1, and the Unicode
// bidirectional overrides that reorder what a terminal shows.
const ESCAPES =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|(?:\u001b[\]P^_X]|[\u0090\u0098\u009d-\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[ -~]?/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROLS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * A stored string made safe to print on a terminal: escape sequences and control characters
 * removed (a snapshot.json written by someone else could otherwise clear the screen, retitle
 * the window or fake lines). Tabs and line breaks become spaces; with `multiline`, newlines
 * stay. JSON and YAML output never goes through this: they escape control characters.
 */
export function sanitize(text: string, multiline = false): string {
  const s = text.replace(ESCAPES, '');
  if (multiline)
    return s.replace(/\r\n?/g, '\n').replace(CONTROLS_BUT_NEWLINE, (c) => (c === '\t' ? ' ' : ''));
  return s.replace(CONTROLS, (c) => (c === '\t' || c === '\n' || c === '\r' ? ' ' : ''));
}

/** A human table; every cell is sanitized, so stored strings cannot reach the terminal raw. */
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
  for (const r of rows) t.push(r.map((c) => sanitize(String(c))));
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

/** A backup's selection as `describe` shows it, one indented line per setting. */
export function selectionLines(s: Selection): string[] {
  return [
    `  namespaces:          ${s.allNamespaces ? '* (all)' : s.namespaces.join(', ')}`,
    `  excluded namespaces: ${s.excludeNamespaces.join(', ') || '<none>'}`,
    `  label selector:      ${s.labelSelector ?? '<none>'}`,
    `  resources:           ${s.includeResources.join(', ') || '*'}`,
    `  excluded resources:  ${s.excludeResources.join(', ') || '<none>'}`,
    `  cluster resources:   ${s.includeClusterResources}`,
  ];
}
