// A temporary file that holds a snapshot's objects while a restore runs, so memory holds only
// an index, not every object (50,000 objects are gigabytes as JavaScript objects). Entries are
// sealed with AES-256-GCM under a key that lives only in this process: Secrets never reach
// the disk in clear, even from an encrypted snapshot, and a tampered spool is detected.
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { readSync, writeSync } from 'node:fs';
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SpoolRef {
  offset: number;
  length: number;
  /** Entry number: the GCM nonce, never reused under one key. */
  seq: number;
}

const TAG = 16;

export class Spool {
  // A KeyObject, made once: given raw bytes, every cipher would import the key again.
  private readonly key = createSecretKey(randomBytes(32));
  private end = 0;
  private seq = 0;

  private constructor(
    private readonly fh: FileHandle,
    private readonly dir: string,
  ) {}

  static async create(): Promise<Spool> {
    const dir = await mkdtemp(join(tmpdir(), 'kubectl-snapshot-restore-'));
    const fh = await open(join(dir, 'spool'), 'w+', 0o600);
    // Unlinked at once where the OS allows it: nothing is left behind even after a crash.
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    return new Spool(fh, dir);
  }

  private nonce(seq: number): Buffer {
    const iv = Buffer.alloc(12);
    iv.writeUInt32BE(seq, 8);
    return iv;
  }

  async append(data: Buffer): Promise<SpoolRef> {
    const seq = this.seq++;
    const cipher = createCipheriv('aes-256-gcm', this.key, this.nonce(seq));
    const sealed = Buffer.concat([cipher.update(data), cipher.final(), cipher.getAuthTag()]);
    const ref = { offset: this.end, length: sealed.length, seq };
    this.end += sealed.length;
    // Synchronous I/O on purpose: entries are small and the file is in the page cache, where
    // a trip through the thread pool per entry costs more than the write itself.
    writeSync(this.fh.fd, sealed, 0, sealed.length, ref.offset);
    return ref;
  }

  async read(ref: SpoolRef): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(ref.length);
    const got = readSync(this.fh.fd, buf, 0, ref.length, ref.offset);
    if (got !== ref.length)
      throw new Error(`restore spool: short read (${got} of ${ref.length} bytes)`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, this.nonce(ref.seq));
    decipher.setAuthTag(buf.subarray(ref.length - TAG));
    return Buffer.concat([decipher.update(buf.subarray(0, ref.length - TAG)), decipher.final()]);
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => {});
    await rm(this.dir, { recursive: true, force: true }).catch(() => {});
  }
}
