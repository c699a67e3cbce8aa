// Minimal streaming tar writer (ustar + PAX long names). Written by hand rather than with
// tar-stream's pack so that back-pressure from gzip and the upload reaches the listers:
// `write()` resolves only when the downstream has room.
const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, size: number, type: '0' | 'x', mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o600, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest, 0);
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

/** Returns the tar blocks for one regular file. */
export function tarEntry(name: string, data: Buffer, mtime: number): Buffer[] {
  const out: Buffer[] = [];
  let shortName = name;
  if (Buffer.byteLength(name) > 100) {
    const pax = paxRecord('path', name);
    out.push(header('PaxHeader', pax.length, 'x', mtime), pax, padding(pax.length));
    shortName = Buffer.from(name)
      .subarray(0, 100)
      .toString('utf8')
      .replace(/\uFFFD+$/, '');
  }
  out.push(header(shortName, data.length, '0', mtime), data, padding(data.length));
  return out;
}

/** Two zero blocks end a tar archive. */
export function tarEnd(): Buffer {
  return Buffer.alloc(BLOCK * 2, 0);
}
