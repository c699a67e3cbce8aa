// Streams objects into a gzip'd tar. Memory stays flat: each `add` waits for the consumer
// of `output` (an upload, a file) to take the bytes before accepting more.
import type { Readable } from 'node:stream';
import { assertSafeEntryName, FORMAT_VERSION, VERSION_ENTRY } from './format.js';
import { ParallelGzip } from './pgzip.js';
import { tarEnd, tarEntry, writeEntry } from './tar.js';

/** The size and hash of what is stored are measured where it is stored (snapshots/draft.ts). */
export interface ArchiveSummary {
  entries: number;
  /** Size of the tar before compression: recorded so a reader can bound what it inflates. */
  inflatedBytes: number;
}

/**
 * Entries are copied into blocks of this size, and each full block is one gzip member
 * compressed on the thread pool: one copy per object, no stream write per tar block.
 */
const BLOCK_SIZE = 1 << 20;

export class ArchiveWriter {
  readonly output: Readable;
  // Level 3: on Kubernetes JSON within a few percent of level 6's size, at half the time.
  // Blocks smaller than half a writer block (only before a very large entry) are joined.
  private readonly gzip = new ParallelGzip({ level: 3, blockSize: BLOCK_SIZE / 2 });
  private readonly done: Promise<ArchiveSummary>;
  private readonly mtime: number;
  private readonly mode: number;
  private entries = 0;
  private inflated = 0;
  private tail: Promise<void> = Promise.resolve();
  private block = Buffer.allocUnsafe(BLOCK_SIZE);
  private used = 0;

  /** `mode`: the entries' Unix mode, as whoever unpacks the archive should create them. */
  constructor(mtime: Date = new Date(), mode = 0o600) {
    this.mtime = Math.floor(mtime.getTime() / 1000);
    this.mode = mode;
    let resolveDone!: (s: ArchiveSummary) => void;
    let rejectDone!: (e: unknown) => void;
    this.done = new Promise((res, rej) => {
      resolveDone = res;
      rejectDone = rej;
    });
    this.gzip.on('end', () => resolveDone({ entries: this.entries, inflatedBytes: this.inflated }));
    this.gzip.on('error', rejectDone);
    this.output = this.gzip;
    this.done.catch(() => {});
    this.add(VERSION_ENTRY, Buffer.from(`${FORMAT_VERSION}\n`));
  }

  /** Adds one file. Calls are serialised, so callers may add concurrently. */
  add(name: string, data: Buffer): Promise<void> {
    assertSafeEntryName(name);
    const next = this.tail.then(async () => {
      this.entries++;
      const entry = tarEntry(name, data);
      if (this.used + entry.size > this.block.length) await this.flushBlock();
      if (entry.size > this.block.length) {
        const own = Buffer.allocUnsafe(entry.size);
        writeEntry(own, 0, entry, this.mtime, this.mode);
        await this.write(own);
        return;
      }
      writeEntry(this.block, this.used, entry, this.mtime, this.mode);
      this.used += entry.size;
    });
    this.tail = next.catch(() => {});
    return next;
  }

  private async flushBlock(): Promise<void> {
    if (this.used === 0) return;
    const full = this.block.subarray(0, this.used);
    this.block = Buffer.allocUnsafe(BLOCK_SIZE);
    this.used = 0;
    await this.write(full);
  }

  private write(chunk: Buffer): Promise<void> {
    this.inflated += chunk.length;
    if (this.gzip.destroyed) return this.done.then(() => {});
    if (this.gzip.write(chunk)) return Promise.resolve();
    // After abort() no 'drain' comes: settle with the archive's failure instead of hanging.
    return Promise.race([
      new Promise<void>((res) => this.gzip.once('drain', res)),
      this.done.then(() => {}),
    ]);
  }

  /** Ends the archive; resolves once the consumer has read every byte. */
  async finish(): Promise<ArchiveSummary> {
    await this.tail;
    if (this.gzip.destroyed) return this.done;
    const end = tarEnd();
    if (this.used + end.length > this.block.length) await this.flushBlock();
    end.copy(this.block, this.used);
    this.used += end.length;
    await this.flushBlock();
    this.gzip.end();
    return this.done;
  }

  /** Stops producing; the consumer sees an error instead of a truncated but valid-looking file. */
  abort(err: Error): void {
    this.gzip.destroy(err);
  }
}
