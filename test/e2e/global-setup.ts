// Starts one real control plane + MinIO for the e2e project and hands its coordinates to
// the tests through `inject('cluster')`. If it cannot start, the run fails: e2e tests never
// skip silently.
import type { TestProject } from 'vitest/node';
import { type Cluster, startCluster } from '../cluster/harness.js';

let cluster: Cluster | undefined;

export default async function setup(project: TestProject) {
  const started = Date.now();
  cluster = await startCluster({ log: (l) => console.error(`[cluster] ${l}`) });
  console.error(`[cluster] up in ${((Date.now() - started) / 1000).toFixed(1)}s (${cluster.dir})`);
  project.provide('cluster', {
    dir: cluster.dir,
    server: cluster.server,
    kubeconfig: cluster.kubeconfig,
    s3: cluster.s3,
    binDir: cluster.binDir,
  });
  return async () => {
    await cluster?.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: {
      dir: string;
      server: string;
      kubeconfig: string;
      s3: { endpoint: string; accessKey: string; secretKey: string; bucket: string };
      binDir: string;
    };
  }
}
