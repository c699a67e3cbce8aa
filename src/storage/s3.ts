// ObjectStore on S3: MinIO, AWS S3 and other S3-compatible servers, through the minio client.
// Loaded lazily (see locations.ts openStore) so commands that never touch S3 do not pay for it.
import type { Readable } from 'node:stream';
import { Client, type ClientOptions } from 'minio';
import { AlreadyExistsError, NotFoundError, UserError } from '../core/errors.js';
import { requestTimeouts } from '../core/http-timeouts.js';
import { sleep } from '../core/time.js';
import { assertValidKey } from './keys.js';
import type { S3Credentials } from './s3-credentials.js';
import { errorCode, isNotFound, mapS3Error, NOT_APPLIED, withRetry } from './s3-errors.js';
import {
  checkS3Endpoint,
  DEFAULT_S3_ENDPOINT,
  formatS3Url,
  type S3Location,
  trimPrefix,
} from './s3-location.js';
import { s3Transport } from './s3-transport.js';
import type { ObjectInfo, ObjectStore } from './store.js';

/**
 * Where to connect (the fields of an s3:// location; `prefix` may also end in '/', the
 * endpoint defaults to AWS, path-style to true for custom endpoints) and how.
 */
export interface S3StoreOptions extends Omit<S3Location, 'kind'> {
  credentials: S3Credentials;
  /** Bytes per multipart part (at least 5 MiB); default 16 MiB. */
  partSize?: number;
  /**
   * Give up on a request after this long without a byte (--request-timeout; 0: never);
   * default 60 s. Connecting and the TLS handshake get at most 10 s each.
   */
  idleTimeoutMs?: number;
}

const MiB = 1024 * 1024;
const DEFAULT_PART_SIZE = 16 * MiB;
const MIN_PART_SIZE = 5 * MiB;
const MAX_PART_SIZE = 5 * 1024 * MiB;
const MAX_PARTS = 10_000;
/** Parts uploaded concurrently while the next one is read. */
const PART_CONCURRENCY = 2;

export class S3Store implements ObjectStore {
  readonly url: string;
  readonly bucket: string;
  /** '' or ending in '/'. */
  readonly prefix: string;
  readonly endpoint: string;
  /** The CA bundle trusted besides the public roots, named in TLS errors. */
  readonly caFile: string | undefined;
  private readonly client: Client;
  private readonly partSize: number;

  constructor(opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    const trimmed = trimPrefix(opts.prefix);
    if (trimmed !== '') assertValidKey(trimmed);
    this.prefix = trimmed === '' ? '' : `${trimmed}/`;
    this.caFile = opts.caFile;

    const given = opts.endpoint ?? DEFAULT_S3_ENDPOINT;
    const checked = checkS3Endpoint(given);
    if (!checked.ok) {
      // Names the endpoint unless that would echo a secret.
      throw new UserError(
        `invalid S3 endpoint${checked.credentials ? '' : ` "${given}"`}: ${checked.why}`,
        'use a URL such as https://s3.example.com or http://127.0.0.1:9000',
      );
    }
    const endpoint = checked.url;
    this.endpoint = endpoint.origin;
    this.url = formatS3Url({ ...opts, endpoint: endpoint.origin, prefix: trimmed });
    const useSSL = endpoint.protocol === 'https:';
    const isAws = /(^|\.)amazonaws\.com(\.cn)?$/.test(endpoint.hostname);

    const partSize = opts.partSize ?? DEFAULT_PART_SIZE;
    if (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
      throw new Error(`S3 part size must be between 5 MiB and 5 GiB, got ${partSize}`);
    }
    this.partSize = partSize;

    const clientOpts: ClientOptions = {
      endPoint: endpoint.hostname.replace(/^\[|\]$/g, ''),
      useSSL,
      accessKey: opts.credentials.accessKey,
      secretKey: opts.credentials.secretKey,
      pathStyle: opts.pathStyle ?? !isAws,
      ...s3Transport({
        useSSL,
        caFile: opts.caFile,
        insecureSkipTlsVerify: opts.insecureSkipTlsVerify,
        timeouts: requestTimeouts(opts.idleTimeoutMs),
      }),
      // Retries of 5xx responses print to the console; the caller reports failures instead.
      retryOptions: { disableRetry: true },
    };
    if (endpoint.port !== '') clientOpts.port = Number(endpoint.port);
    if (opts.region) clientOpts.region = opts.region;
    if (opts.credentials.sessionToken) clientOpts.sessionToken = opts.credentials.sessionToken;
    this.client = new Client(clientOpts);
  }

  async put(key: string, body: Readable | Buffer): Promise<{ size: number }> {
    const name = this.objectName(key);
    try {
      if (Buffer.isBuffer(body)) {
        await withRetry(() => this.client.putObject(this.bucket, name, body, body.length));
        return { size: body.length };
      }
      return await this.putStream(name, body);
    } catch (err) {
      if (!Buffer.isBuffer(body) && !body.destroyed) body.destroy();
      throw mapS3Error(err, key, this);
    }
  }

  async createExclusive(key: string, body: Buffer): Promise<void> {
    const name = this.objectName(key);
    for (let attempt = 0; ; attempt++) {
      try {
        // A write whose answer was lost may have happened: retry only what surely did not.
        await withRetry(
          () =>
            this.client.putObject(this.bucket, name, body, body.length, { 'If-None-Match': '*' }),
          NOT_APPLIED,
        );
        return;
      } catch (err) {
        const code = errorCode(err);
        if (code === 'PreconditionFailed' || code === 'XMinioPreconditionFailed') {
          throw new AlreadyExistsError(`${this.url} object "${key}"`);
        }
        // AWS answers 409 to a conditional write racing another one; retrying resolves it.
        if (code === 'ConditionalRequestConflict' && attempt < 5) {
          await sleep(50 * 2 ** attempt);
          continue;
        }
        throw mapS3Error(err, key, this);
      }
    }
  }

  async get(key: string): Promise<Readable> {
    const name = this.objectName(key);
    try {
      return await withRetry(() => this.client.getObject(this.bucket, name));
    } catch (err) {
      if (isNotFound(err)) {
        throw new NotFoundError(`${this.url} object "${key}"`);
      }
      throw mapS3Error(err, key, this);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const name = this.objectName(key);
    try {
      const st = await withRetry(() => this.client.statObject(this.bucket, name));
      return { key, size: st.size, lastModified: st.lastModified };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw mapS3Error(err, key, this);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidKey(prefix, true);
    const stream = this.client.listObjectsV2(this.bucket, this.prefix + prefix, true);
    try {
      for await (const item of stream as AsyncIterable<{
        name?: string;
        size: number;
        lastModified?: Date;
      }>) {
        if (item.name === undefined || !item.name.startsWith(this.prefix)) continue;
        yield {
          key: item.name.slice(this.prefix.length),
          size: item.size,
          lastModified: item.lastModified ?? new Date(0),
        };
      }
    } catch (err) {
      throw mapS3Error(err, prefix, this);
    } finally {
      stream.destroy();
    }
  }

  async delete(key: string): Promise<void> {
    const name = this.objectName(key);
    try {
      await withRetry(() => this.client.removeObject(this.bucket, name));
    } catch (err) {
      if (isNotFound(err)) return;
      throw mapS3Error(err, key, this);
    }
  }

  /**
   * Aborts every incomplete multipart upload of `key`. A backup aborts its own upload when it
   * fails, but not when the failure is the storage itself going away (the abort cannot reach
   * it either): then the uploaded parts stay, invisible to list, until someone aborts them.
   * Asked for by exact key: MinIO lists incomplete uploads only for an object name, not for a
   * prefix.
   */
  async removeIncomplete(key: string): Promise<number> {
    const name = this.objectName(key);
    let removed = 0;
    try {
      let keyMarker = '';
      let uploadIdMarker = '';
      for (;;) {
        const page = await withRetry(() =>
          this.client.listIncompleteUploadsQuery(this.bucket, name, keyMarker, uploadIdMarker, ''),
        );
        for (const u of page.uploads) {
          if (u.key !== name) continue; // a longer key with this one as its prefix
          await withRetry(() => this.client.abortMultipartUpload(this.bucket, name, u.uploadId));
          removed++;
        }
        if (!page.isTruncated) return removed;
        keyMarker = page.nextKeyMarker;
        uploadIdMarker = page.nextUploadIdMarker;
      }
    } catch (err) {
      if (isNotFound(err) || errorCode(err) === 'NoSuchUpload') return removed;
      throw mapS3Error(err, key, this);
    }
  }

  private objectName(key: string): string {
    assertValidKey(key);
    return this.prefix + key;
  }

  /**
   * Streams of unknown length: one PUT when the body fits in a part, otherwise a multipart
   * upload (at most PART_CONCURRENCY parts in memory at once), aborted on any failure so
   * nothing becomes visible unless the whole body arrived.
   */
  private async putStream(name: string, body: Readable): Promise<{ size: number }> {
    const iterator = body[Symbol.asyncIterator]();
    let partSize = this.partSize;
    let size = 0;
    let done = false;

    const readPart = async (): Promise<Buffer> => {
      const chunks: Buffer[] = [];
      let n = 0;
      while (n < partSize) {
        const r = await iterator.next();
        if (r.done) {
          done = true;
          break;
        }
        const chunk: Buffer = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
        chunks.push(chunk);
        n += chunk.length;
      }
      size += n;
      return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, n);
    };

    const first = await readPart();
    if (done) {
      await withRetry(() => this.client.putObject(this.bucket, name, first, first.length));
      return { size };
    }

    const uploadId = await withRetry(() =>
      this.client.initiateNewMultipartUpload(this.bucket, name, {}),
    );
    const inFlight = new Set<Promise<void>>();
    try {
      const etags: { part: number; etag: string }[] = [];
      let failure: { err: unknown } | undefined;
      const upload = (part: number, data: Buffer) => {
        // A part is a buffer: uploading it again replaces it, so every part may retry.
        const p = withRetry(() =>
          this.client.uploadPart(
            {
              bucketName: this.bucket,
              objectName: name,
              uploadID: uploadId,
              partNumber: part,
              headers: {},
            },
            data,
          ),
        )
          .then((r) => {
            etags.push({ part, etag: r.etag });
          })
          .catch((err: unknown) => {
            failure ??= { err };
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      };

      let part = 1;
      upload(part, first);
      while (!done) {
        while (inFlight.size >= PART_CONCURRENCY) await Promise.race(inFlight);
        if (failure) throw failure.err;
        // Grow parts over time so streams of unknown length fit in 10,000 parts.
        if (part % 1000 === 0) partSize = Math.min(partSize * 2, MAX_PART_SIZE);
        const data = await readPart();
        if (data.length === 0) break;
        part++;
        if (part > MAX_PARTS) throw new Error(`object too large for ${MAX_PARTS} S3 parts`);
        upload(part, data);
      }
      await Promise.all(inFlight);
      if (failure) throw failure.err;
      etags.sort((a, b) => a.part - b.part);
      await this.client.completeMultipartUpload(this.bucket, name, uploadId, etags);
      return { size };
    } catch (err) {
      await Promise.allSettled(inFlight);
      await this.client.abortMultipartUpload(this.bucket, name, uploadId).catch(() => {});
      throw err;
    }
  }
}
