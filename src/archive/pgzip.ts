// gzip on several cores: the input is cut into blocks that are compressed in parallel on
// libuv's thread pool and emitted in order, each block a complete gzip member. A file of
// concatenated members is standard gzip (RFC 1952 §2.2): gunzip, tar, Go's gzip reader and
// Node's zlib all read it as one stream. On a backup, compression is otherwise the slowest
// step, done on one core while the others wait.
import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

export interface ParallelGzipOptions {
  /** Bytes per gzip member; larger blocks compress a little better. */
  blockSize?: number;
  /** Blocks compressing at once; also bounds memory to about blockSize × (inFlight + 1). */
  inFlight?: number;
  level?: number;
}

export class ParallelGzip extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly queue: Promise<Buffer>[] = [];
  private readonly blockSize: number;
  private readonly inFlight: number;
  private readonly level: number;

  constructor(opts: ParallelGzipOptions = {}) {
    super();
    this.blockSize = opts.blockSize ?? 1 << 20;
    this.inFlight = opts.inFlight ?? 4;
    this.level = opts.level ?? 6;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= this.blockSize) this.launch();
    this.emitDone(this.inFlight - 1).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    if (this.pendingBytes > 0) this.launch();
    this.emitDone(0).then(() => cb(), cb);
  }

  private launch(): void {
    const block =
      this.pending.length === 1
        ? (this.pending[0] as Buffer)
        : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    // An output buffer as large as the block makes each member one trip to the thread pool;
    // zlib's default 16 KiB chunks cost a round trip (and a main-thread callback) per chunk.
    const p = gzipAsync(block, { level: this.level, chunkSize: block.length + 4096 });
    p.catch(() => {}); // surfaced in order by emitDone
    this.queue.push(p);
  }

  /** Emits finished blocks in order until at most `keep` are still compressing. */
  private async emitDone(keep: number): Promise<void> {
    while (this.queue.length > keep) {
      const next = this.queue.shift() as Promise<Buffer>;
      this.push(await next);
    }
  }
}
