// Reads a gzip'd tar produced by us (or by Velero), refusing anything unsafe or damaged:
// links, special files, unsafe names, oversized entries, truncation and gzip/tar corruption.
import type { Readable } from 'node:stream';
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
}

/** Stored bytes are hashed and counted where they are read from storage (snapshots/). */
export interface ReadSummary {
  entries: number;
}

const DEFAULT_MAX_ENTRY = 16 * 1024 * 1024;

export async function readArchive(
  input: Readable,
  onEntry: (entry: ArchiveEntry) => void | Promise<void>,
  opts: ReadOptions = {},
): Promise<ReadSummary> {
  const max = opts.maxEntryBytes ?? DEFAULT_MAX_ENTRY;
  let entries = 0;
  const extract = tarExtract();
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
    await Promise.all([
      pipeline(input, createGunzip({ chunkSize: GUNZIP_CHUNK }), extract),
      consume,
    ]);
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
  return { entries };
}
