import { createHash } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';

/** A pass-through that counts bytes and hashes them (sha256) on their way to storage. */
export class HashCounter extends Transform {
  private readonly hash = createHash('sha256');
  size = 0;
  private digestHex?: string;

  override _transform(
    chunk: Buffer,
    _enc: BufferEncoding,
    cb: (err?: Error | null, data?: Buffer) => void,
  ): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }

  /**
   * A counter reading `source`: its errors become the counter's, and a counter destroyed
   * before the end (a reader that refused the archive) destroys the source, which closes its
   * file or connection instead of leaving it to the garbage collector (an error on Node 26).
   */
  static reading(source: Readable): HashCounter {
    const counter = new HashCounter();
    source.on('error', (err) => counter.destroy(err));
    counter.once('close', () => {
      if (!source.destroyed) source.destroy();
    });
    source.pipe(counter);
    return counter;
  }

  /** The sha256 of everything that passed; call once the stream has ended. */
  get sha256(): string {
    this.digestHex ??= this.hash.digest('hex');
    return this.digestHex;
  }
}
