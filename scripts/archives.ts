// The release archives (tar.gz, and zip for Windows) with fixed timestamps, and the one
// change a Windows base needs before injection.

import { writeFileSync } from 'node:fs';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';

/** Drops a PE file's Authenticode certificate table (postject's injection would void it). */
export function removeAuthenticode(buf: Buffer): Buffer {
  const pe = buf.readUInt32LE(0x3c);
  if (buf.readUInt32LE(pe) !== 0x00004550) throw new Error('not a PE file');
  const opt = pe + 24;
  const magic = buf.readUInt16LE(opt);
  const dirs = opt + (magic === 0x20b ? 112 : 96);
  const security = dirs + 4 * 8;
  const off = buf.readUInt32LE(security);
  const size = buf.readUInt32LE(security + 4);
  if (off === 0 || size === 0) return buf;
  if (off + size !== buf.length)
    throw new Error('the certificate table is not at the end of the file');
  const out = Buffer.from(buf.subarray(0, off));
  out.writeUInt32LE(0, security);
  out.writeUInt32LE(0, security + 4);
  return out;
}

function fixedMtime(): Date {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? 0);
  return new Date((Number.isFinite(epoch) ? epoch : 0) * 1000);
}

export interface ArchiveEntry {
  name: string;
  data: Buffer;
  mode: number;
}

export async function writeTarGz(file: string, entries: ArchiveEntry[]): Promise<void> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((res, rej) => {
    p.on('end', res);
    p.on('error', rej);
  });
  for (const e of entries)
    p.entry({ name: e.name, mode: e.mode, mtime: fixedMtime(), uid: 0, gid: 0 }, e.data);
  p.finalize();
  await done;
  writeFileSync(file, gzipSync(Buffer.concat(chunks), { level: 9 }));
}

/** A plain (non-zip64) deflate zip: enough for two files under 4 GiB. */
export function writeZip(file: string, entries: ArchiveEntry[]): void {
  const d = fixedMtime();
  const year = Math.max(d.getUTCFullYear(), 1980);
  const dosTime = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  const dosDate = ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const packed = deflateRawSync(e.data, { level: 9 });
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, so the mode below is read
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((0o100000 | e.mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  writeFileSync(file, Buffer.concat([...locals, cd, end]));
}
