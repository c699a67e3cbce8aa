// Minimal streaming tar writer (ustar + PAX long names). Written by hand rather than with
// tar-stream's pack so that entries go straight into the writer's compression blocks (one
// copy, no stream per entry) and back-pressure from gzip and the upload reaches the listers.
const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** Writes ASCII text byte by byte: Buffer#write on a large block costs microseconds a call. */
function putAscii(h: Buffer, at: number, text: string): void {
  for (let i = 0; i < text.length; i++) h[at + i] = text.charCodeAt(i);
}

function writeHeader(
  h: Buffer,
  at: number,
  name: string,
  size: number,
  type: '0' | 'x',
  mtime: number,
  mode: number,
): void {
  h.fill(0, at, at + BLOCK);
  if (/^[\x20-\x7e]*$/.test(name) && name.length <= 100) putAscii(h, at, name);
  else Buffer.from(name, 'utf8').copy(h, at, 0, 100);
  putAscii(h, at + 100, octal(mode, 8));
  putAscii(h, at + 108, octal(0, 8));
  putAscii(h, at + 116, octal(0, 8));
  putAscii(h, at + 124, octal(size, 12));
  putAscii(h, at + 136, octal(mtime, 12));
  putAscii(h, at + 148, '        ');
  putAscii(h, at + 156, type);
  putAscii(h, at + 257, 'ustar\0');
  putAscii(h, at + 263, '00');
  let sum = 0;
  for (let i = at; i < at + BLOCK; i++) sum += h[i] as number;
  putAscii(h, at + 148, `${sum.toString(8).padStart(6, '0')}\0 `);
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** A PAX record "<len> path=<value>\n", where len counts the whole record including itself. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + String(bodyLen).length;
  // The length's own digits count too: 95 bytes of body make 97 ("97 …"), 98 make 101.
  if (String(len).length !== len - bodyLen) len += 1;
  return Buffer.from(`${len}${body}`, 'utf8');
}

/** One regular file, ready to be written with `writeEntry`; `size` is its length in the tar. */
export interface TarEntry {
  size: number;
  name: string;
  data: Buffer;
  pax?: Buffer;
}

export function tarEntry(name: string, data: Buffer): TarEntry {
  const pax = Buffer.byteLength(name) > 100 ? paxRecord('path', name) : undefined;
  const size = (pax ? BLOCK + padded(pax.length) : 0) + BLOCK + padded(data.length);
  return { size, name, data, pax };
}

/** Writes the entry's blocks into `target` at `at` (which must have `entry.size` bytes free). */
export function writeEntry(
  target: Buffer,
  at: number,
  entry: TarEntry,
  mtime: number,
  mode = 0o600,
): void {
  let shortName = entry.name;
  if (entry.pax) {
    writeHeader(target, at, 'PaxHeader', entry.pax.length, 'x', mtime, mode);
    at += BLOCK;
    entry.pax.copy(target, at);
    target.fill(0, at + entry.pax.length, at + padded(entry.pax.length));
    at += padded(entry.pax.length);
    shortName = Buffer.from(entry.name)
      .subarray(0, 100)
      .toString('utf8')
      .replace(/\uFFFD+$/, '');
  }
  writeHeader(target, at, shortName, entry.data.length, '0', mtime, mode);
  at += BLOCK;
  entry.data.copy(target, at);
  target.fill(0, at + entry.data.length, at + padded(entry.data.length));
}

/** Two zero blocks end a tar archive. */
export function tarEnd(): Buffer {
  return Buffer.alloc(BLOCK * 2, 0);
}
