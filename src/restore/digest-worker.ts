// Worker thread entry: digests pages of lookup lists off the main thread, which meanwhile
// reads and verifies the archive. Messages: see digest-pool.ts.
import { parentPort } from 'node:worker_threads';
import { errorMessage } from '../core/errors.js';
import { digestListPage } from './digest.js';

interface Job {
  id: number;
  body: Uint8Array;
  apiVersion: string;
  kind: string;
}

parentPort?.on('message', ({ id, body, apiVersion, kind }: Job) => {
  try {
    parentPort?.postMessage({ id, ...digestListPage(body, apiVersion, kind) });
  } catch (err) {
    parentPort?.postMessage({ id, error: errorMessage(err) });
  }
});
