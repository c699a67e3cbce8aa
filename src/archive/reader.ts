// Reads a gzip'd tar produced by us (or by Velero), refusing anything unsafe or damaged:
// links, special files, unsafe names, oversized entries, truncation and gzip/tar corruption,
// anything after the tar's end-of-archive marker, and more inflated bytes than allowed.
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { CorruptArchiveError, errorMessage } from '../core/errors.js';
import { assertSafeEntryName } from './format.js';

/** Output per inflate call: zlib's 16 KiB default makes a thread-pool trip per 16 KiB. */
const GUNZIP_CHUNK = 256 * 1024;

export interface ArchiveEntry {
  name: string;
  data: Buffer;
}

export interface ReadOptions {
  /** Largest accepted entry; a Kubernetes object is at most ~1.5 MiB in etcd. */
  maxEntryBytes?: number;
  /** The read stops as soon as the tar (the inflated bytes) grows past this. */
  maxInflatedBytes?: number;
}

/** Stored bytes are hashed and counted where they are read from storage (snapshots/). */
export interface ReadSummary {
  entries: number;
  /** Size of the tar: the bytes gunzip produced. */
  inflatedBytes: number;
}

/** The API server refuses requests over 3 MiB, so no object it served is larger. */
export const DEFAULT_MAX_ENTRY = 3 * 1024 * 1024;

export async function readArchive(
  input: Readable,
  onEntry: (entry: ArchiveEntry) => void | Promise<void>,
  opts: ReadOptions = {},
): Promise<ReadSummary> {
  const max = opts.maxEntryBytes ?? DEFAULT_MAX_ENTRY;
  let entries = 0;
  const extract = tarExtract();
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
  const compressed = new ByteCounter();
  const tar = new TarBounds(max, opts.maxInflatedBytes ?? Number.POSITIVE_INFINITY);
  // Set when onEntry throws: its error is the caller's own, never a sign of corruption.
  let callbackError: { err: unknown } | undefined;
  const consume = (async () => {
    for await (const entry of extract) {
      const { name, type, size: declared } = entry.header;
      if (type === 'directory') {
        // tar writes directory names with a trailing slash.
        assertSafeEntryName(name.replace(/\/$/, ''));
        entry.resume();
        continue;
      }
      assertSafeEntryName(name);
      if (type !== 'file' && type !== 'contiguous-file') {
        throw new CorruptArchiveError(
          `archive entry ${JSON.stringify(name)} is a ${type}, not a regular file`,
        );
      }
      if ((declared ?? 0) > max) {
        throw new CorruptArchiveError(
          `archive entry ${JSON.stringify(name)} is ${declared} bytes, over the ${max}-byte limit`,
        );
      }
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      entries++;
      try {
        await onEntry({ name, data: Buffer.concat(chunks) });
      } catch (err) {
        callbackError = { err };
        throw err;
      }
    }
  })();
  try {
    await Promise.all([pipeline(input, compressed, gunzip, tar, extract), consume]);
    // Node's gunzip ignores what follows the last gzip member when it is not another member.
    if (gunzip.bytesWritten !== compressed.bytes) {
      throw new CorruptArchiveError(
        `archive has ${compressed.bytes - gunzip.bytesWritten} bytes after the end of its gzip data`,
      );
    }
  } catch (err) {
    input.destroy();
    extract.destroy();
    if (callbackError) throw callbackError.err;
    if (err instanceof CorruptArchiveError) throw err;
    // Errors from gunzip/tar mean the bytes are damaged; storage and callback errors pass through.
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('Z_') || /tar|header|end of data|unexpected end/i.test(errorMessage(err))) {
      throw new CorruptArchiveError(`archive is corrupt or truncated: ${errorMessage(err)}`);
    }
    throw err;
  }
  return { entries, inflatedBytes: tar.inflated };
}

class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

const BLOCK = 512;
/** After the last entry: the two-block end marker and at most a 20-block record's padding. */
const MAX_TRAILER = 22 * BLOCK;
/** PAX headers hold a long path; tar-stream buffers them whole, so they must stay small. */
const MAX_PAX = 64 * 1024;

/**
 * Walks the tar's headers as its bytes pass, before tar-stream sees them: refuses an entry
 * (or PAX header) over the limit from its header, before its data arrives; stops once the
 * tar exceeds its inflated limit; and requires that the archive end with the end-of-archive
 * marker and nothing but zero padding after it. tar-stream skips zero blocks and reads on,
 * so without this an archive with entries (or a second gzip member) appended after its end
 * would be read whole. Types tar-stream would size differently (directories with data, PAX
 * size records, GNU and global headers) are refused, so the two always agree.
 */
class TarBounds extends Transform {
  inflated = 0;
  /** Offset of the next header; bytes before it are entry data. */
  private next = 0;
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Offset where the end-of-archive marker starts, once seen. */
  private endAt?: number;
  private pax?: { from: number; size: number; data: Buffer[] };
  private paxSize?: boolean;

  constructor(
    private readonly maxEntry: number,
    private readonly maxInflated: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.scan(chunk);
    } catch (err) {
      cb(err as Error);
      return;
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.endAt === undefined || this.inflated - this.endAt < 2 * BLOCK) {
      cb(new CorruptArchiveError('archive is truncated: its tar has no end-of-archive marker'));
      return;
    }
    cb();
  }

  private scan(chunk: Buffer): void {
    const start = this.inflated;
    this.inflated += chunk.length;
    if (this.inflated > this.maxInflated) {
      throw new CorruptArchiveError(
        `archive inflates to more than ${this.maxInflated} bytes, more than its snapshot.json allows`,
      );
    }
    let at = 0;
    while (at < chunk.length) {
      const pos = start + at;
      if (this.endAt !== undefined) {
        for (; at < chunk.length; at++) {
          if (chunk[at] !== 0) {
            throw new CorruptArchiveError(
              'archive has data after its tar end-of-archive marker (appended entries or another gzip member)',
            );
          }
        }
        if (this.inflated - this.endAt > MAX_TRAILER) {
          throw new CorruptArchiveError(
            `archive has more than ${MAX_TRAILER} bytes after its last entry`,
          );
        }
        return;
      }
      if (pos < this.next) {
        const n = Math.min(this.next - pos, chunk.length - at);
        if (this.pax) this.pax.data.push(chunk.subarray(at, at + n));
        at += n;
        if (this.pax && start + at === this.next) this.readPax();
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.length - at);
      chunk.copy(this.header, this.headerFill, at, at + n);
      this.headerFill += n;
      at += n;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.onHeader(start + at - BLOCK);
      }
    }
  }

  private onHeader(offset: number): void {
    const h = this.header;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += h[i] as number;
    if (sum === 0) {
      // tar-stream's test for a null header; the end marker must be wholly zero.
      if (h.subarray(148, 156).some((b) => b !== 0)) {
        throw new CorruptArchiveError('archive has a malformed end-of-archive marker');
      }
      this.endAt = offset;
      return;
    }
    const size = headerSize(h);
    const type = h[156] as number;
    const typeName = String.fromCharCode(type);
    const name = JSON.stringify(
      h.subarray(0, h.indexOf(0) < 0 ? 100 : Math.min(h.indexOf(0), 100)).toString('utf8'),
    );
    if (type === 0x78 /* x: PAX */) {
      if (size > MAX_PAX) {
        throw new CorruptArchiveError(
          `archive has a ${size}-byte PAX header, over the ${MAX_PAX}-byte limit`,
        );
      }
      this.pax = { from: offset + BLOCK, size, data: [] };
      if (size === 0) this.readPax();
    } else if (type === 0 || '075'.includes(typeName)) {
      if (typeName === '5' && size !== 0) {
        throw new CorruptArchiveError(`archive entry ${name} is a directory with data`);
      }
      if (this.paxSize) {
        throw new CorruptArchiveError(`archive entry ${name} has its size in a PAX record`);
      }
      if (size > this.maxEntry) {
        throw new CorruptArchiveError(
          `archive entry ${name} is ${size} bytes, over the ${this.maxEntry}-byte limit`,
        );
      }
    } else if (!'12346'.includes(typeName)) {
      // Links and special files have no data and are refused by the reader by name; GNU
      // long names, global PAX headers and unknown types are not something we read.
      throw new CorruptArchiveError(
        `archive has an unsupported tar header type ${JSON.stringify(typeName)}`,
      );
    } else if (size !== 0) {
      throw new CorruptArchiveError(`archive entry ${name} is a link or special file with data`);
    }
    if (type !== 0x78) this.paxSize = false;
    this.next = offset + BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }

  private readPax(): void {
    const pax = this.pax as { size: number; data: Buffer[] };
    this.pax = undefined;
    const text = Buffer.concat(pax.data).subarray(0, pax.size).toString('utf8');
    this.paxSize = /(^|\n)\d+ size=/.test(text);
  }
}

/** The size field exactly as tar-stream decodes it, so both walk the same blocks. */
function headerSize(h: Buffer): number {
  const val = h.subarray(124, 136);
  if ((val[0] as number) & 0x80) {
    throw new CorruptArchiveError('archive has an entry with a base-256 size (over 8 GiB)');
  }
  let off = 0;
  while (off < val.length && val[off] === 32) off++;
  let end = val.indexOf(32, off);
  if (end < 0) end = val.length;
  while (off < end && val[off] === 0) off++;
  if (end === off) return 0;
  const size = Number.parseInt(val.subarray(off, end).toString('latin1'), 8);
  if (!(size >= 0))
    throw new CorruptArchiveError(
      'archive is corrupt or truncated: a tar header has a malformed size',
    );
  return size;
}
