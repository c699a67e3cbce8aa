// The one storage abstraction every command uses. Implementations: fs.ts (a local
// directory) and s3.ts (MinIO, AWS S3 and other S3-compatible servers, via the minio client).
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  /** Key relative to the store's root/prefix, '/'-separated. */
  key: string;
  size: number;
  lastModified: Date;
}

export interface ObjectStore {
  /** Where this store points, for display: never contains credentials. */
  readonly url: string;
  /**
   * Writes (or overwrites) an object from a stream of unknown length. Large bodies must not
   * be buffered whole (S3 uses multipart). Nothing is visible under `key` unless the
   * whole body was written.
   */
  put(key: string, body: Readable | Buffer): Promise<{ size: number }>;
  /**
   * Writes a small object only if `key` does not exist yet, atomically (S3 `If-None-Match: *`,
   * exclusive create on a filesystem). Throws AlreadyExistsError when it does.
   */
  createExclusive(key: string, body: Buffer): Promise<void>;
  /** Throws NotFoundError when the key does not exist. */
  get(key: string): Promise<Readable>;
  /** Undefined when the key does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix`, recursively. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Removes unfinished writes of `key` that a process left behind when it died or lost the
   * storage mid-write (an S3 multipart upload that was never completed or aborted, a
   * filesystem store's temporary file). They are invisible to `list` but hold space, so
   * deleting a snapshot must remove them too. Answers how many it removed.
   */
  removeIncomplete?(key: string): Promise<number>;
}

/** Reads a whole (small) object into memory. */
export async function getBuffer(store: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}
