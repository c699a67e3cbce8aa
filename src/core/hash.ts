import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

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

  /** The sha256 of everything that passed; call once the stream has ended. */
  get sha256(): string {
    this.digestHex ??= this.hash.digest('hex');
    return this.digestHex;
  }
}
