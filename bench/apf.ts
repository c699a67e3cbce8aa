// The restore against an API server that throttles it: API Priority and Fairness puts the
// restoring ServiceAccount on a priority level of about 3 seats that rejects (429) what it
// cannot seat, where a fixed concurrency of 16 spends its time in retries. The CLI runs as
// that ServiceAccount (bound to cluster-admin, so only the throttling differs from the other
// restores), once with the fixed default and once with `--concurrency auto`.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import type { KubeClient } from '../src/kube/client.js';
import { fewSeatsPriorityLevel, flowSchemaFor } from '../test/cluster/flow-control.js';

export const APF_LEVEL = 'bench-few-seats';
const NS = 'bench-apf';
const SA = 'bench-restorer';

export interface ApfRun {
  concurrency: '16' | 'auto';
  seconds: number;
  created: number;
  failed: number;
  /** 429s the server's priority level answered during the run (its own metric). */
  rejected: number;
  cpuSeconds: number;
}

/** Creates the throttled ServiceAccount and returns a kubeconfig holding only its token. */
export async function throttledRestorer(
  client: KubeClient,
  adminKubeconfig: string,
  dir: string,
): Promise<string> {
  const post = (path: string, body: unknown) => client.request('POST', path, { body });
  await post('/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: NS },
  });
  await post(`/api/v1/namespaces/${NS}/serviceaccounts`, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: SA, namespace: NS },
  });
  await post('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: SA },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: SA, namespace: NS }],
  });
  const flowControl = '/apis/flowcontrol.apiserver.k8s.io/v1';
  await post(`${flowControl}/prioritylevelconfigurations`, fewSeatsPriorityLevel(APF_LEVEL));
  await post(
    `${flowControl}/flowschemas`,
    flowSchemaFor(APF_LEVEL, APF_LEVEL, {
      kind: 'ServiceAccount',
      serviceAccount: { name: SA, namespace: NS },
    }),
  );
  // The FlowSchema applies once the API server has seen its priority level.
  for (let i = 0; ; i++) {
    const fs = await client.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
      `${flowControl}/flowschemas/${APF_LEVEL}`,
    );
    if (fs.status?.conditions?.some((c) => c.type === 'Dangling' && c.status === 'False')) break;
    if (i > 120) throw new Error(`FlowSchema ${APF_LEVEL} still dangling after 60 s`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const tr = await post(`/api/v1/namespaces/${NS}/serviceaccounts/${SA}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 7200 },
  });
  const token = (tr as { status?: { token?: string } }).status?.token;
  if (!token) throw new Error('TokenRequest returned no token');
  const admin = load(readFileSync(adminKubeconfig, 'utf8')) as {
    clusters: { name: string; cluster: Record<string, unknown> }[];
  };
  const path = join(dir, 'apf.kubeconfig');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: admin.clusters,
      users: [{ name: SA, user: { token } }],
      contexts: [{ name: SA, context: { cluster: admin.clusters[0]?.name, user: SA } }],
      'current-context': SA,
    }),
    { mode: 0o600 },
  );
  return path;
}

/** Requests the priority level rejected so far, from the API server's /metrics. */
export function rejectedRequests(kubectl: string, env: NodeJS.ProcessEnv): number {
  let total = 0;
  const metrics = execFileSync(kubectl, ['get', '--raw', '/metrics'], {
    env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  for (const line of metrics.split('\n'))
    if (
      line.startsWith('apiserver_flowcontrol_rejected_requests_total{') &&
      line.includes(`priority_level="${APF_LEVEL}"`)
    )
      total += Number(line.split(' ').pop());
  return total;
}

/**
 * Namespaces of the snapshot holding at most `cap` objects in all (at least one): throttled,
 * a fixed 16 restores a few objects a second, so the APF run restores about 500 objects
 * whatever the size of the benchmark.
 */
export function apfNamespaces(namespaces: readonly string[], objects: number, cap = 500): string[] {
  const perNamespace = objects / namespaces.length;
  return namespaces.slice(0, Math.max(1, Math.floor(cap / perNamespace)));
}
