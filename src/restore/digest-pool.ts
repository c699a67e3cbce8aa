// The main thread's side of digest-worker.ts: hands it pages of lookup lists, answers their
// digests. One worker; pages go to it whole (transferred, not copied).
import { getAsset, isSea } from 'node:sea';
import { Worker } from 'node:worker_threads';
import type { DigestedPage } from './digest.js';

/** The single executable's asset holding the bundled worker (scripts/package.ts embeds it). */
export const DIGEST_WORKER_ASSET = 'digest-worker.cjs';

function startWorker(): Worker {
  // The single executable has no files beside it: its worker code is an embedded asset.
  if (isSea()) return new Worker(getAsset(DIGEST_WORKER_ASSET, 'utf8'), { eval: true });
  return new Worker(new URL('./digest-worker.js', import.meta.url));
}

interface Pending {
  resolve: (page: DigestedPage) => void;
  reject: (err: Error) => void;
}

export class PageDigester {
  private worker?: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private failure?: Error;

  digest(body: Buffer, apiVersion: string, kind: string): Promise<DigestedPage> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.worker) this.worker = this.start();
    const worker = this.worker;
    const id = this.nextId++;
    // Transferred only when the Buffer owns its memory: a small one shares Node's pool.
    const owns = body.byteOffset === 0 && body.buffer.byteLength === body.byteLength;
    const data = owns ? body : new Uint8Array(body);
    return new Promise<DigestedPage>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, body: data, apiVersion, kind }, [data.buffer as ArrayBuffer]);
    });
  }

  private start(): Worker {
    const worker = startWorker();
    worker.on(
      'message',
      ({ id, error, ...page }: DigestedPage & { id: number; error?: string }) => {
        const p = this.pending.get(id);
        this.pending.delete(id);
        if (!p) return;
        if (error !== undefined) p.reject(new Error(`cannot read a list page: ${error}`));
        else p.resolve(page);
      },
    );
    // Node 26 types a worker's error as unknown: whatever the worker threw.
    worker.on('error', (err) => this.fail(err instanceof Error ? err : new Error(String(err))));
    worker.on('exit', (code) =>
      this.fail(new Error(`the lookup worker stopped (exit code ${code})`)),
    );
    return worker;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  /**
   * Stops the worker. Until then it keeps the process alive, on purpose: unref'd while idle,
   * it let a diff end silently now and then (the launcher's top-level await unsettled) while
   * awaiting a lookup; every loader of a snapshot closes it (LoadedSnapshot.close).
   */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.failure ??= new Error('lookups are closed');
    await w?.terminate();
  }
}
