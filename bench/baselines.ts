// The limits the tool is measured against, with the same client against the same control plane:
// raw paginated LISTs (backup), raw parallel creates (restore) and kubectl for both. They run in
// this process, which `--pin` puts on the client's cores.
import { closeSync, openSync, writeSync } from 'node:fs';
import { LIST_CONCURRENCY, LIST_PAGE_SIZE } from '../src/backup/run.js';
import type { planListJobs } from '../src/backup/select.js';
import { mapLimit } from '../src/core/pool.js';
import { KubeClient } from '../src/kube/client.js';
import { collectionPath } from '../src/kube/discovery.js';
import type { planRestore } from '../src/restore/plan.js';
import { measureProcess, type Sample, selfCpuSeconds } from './measure.js';

type ListJob = ReturnType<typeof planListJobs>[number];
type RestorePlan = ReturnType<typeof planRestore>;

/** The concurrencies of the raw-create sweep; the restore's limit is the best of them. */
export const CREATE_CONCURRENCIES = [4, 8, 16, 32, 64] as const;

export const createKey = (concurrency: number) => `create (raw API, ${concurrency} at once)`;

/**
 * Deletes namespaces and waits until they are gone: every create measurement then starts from
 * the same cluster (creates get slower as etcd fills, which would favour whatever runs first).
 */
export async function dropNamespaces(client: KubeClient, names: string[]): Promise<void> {
  await Promise.all(
    names.map((n) => client.request('DELETE', `/api/v1/namespaces/${n}`).catch(() => {})),
  );
  for (let i = 0; i < 1800; i++) {
    const left = await Promise.all(names.map((n) => client.getOptional(`/api/v1/namespaces/${n}`)));
    if (left.every((x) => x === undefined)) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`namespaces ${names.join(', ')} still exist after 30 minutes`);
}

/** Waits until the Deployment controller has made a ReplicaSet for each Deployment. */
export async function replicaSetsSettled(
  client: KubeClient,
  namespaces: string[],
  deployments: number,
): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    let rs = 0;
    for (const ns of namespaces) {
      for await (const page of client.listPages(`/apis/apps/v1/namespaces/${ns}/replicasets`))
        rs += page.length;
    }
    if (rs >= deployments) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Every LIST page of the backup's jobs as the API server sent it (bytes), for parse timings. */
export async function rawListPages(client: KubeClient, jobs: ListJob[]): Promise<string[]> {
  const pages: string[] = [];
  for (const job of jobs) {
    const path = collectionPath(job.type, job.namespace);
    for await (const page of client.listPagesDecoded(path, LIST_PAGE_SIZE, async (body) => {
      const text = body.toString('utf8');
      const cont = (JSON.parse(text) as { metadata?: { continue?: string } }).metadata?.continue;
      return cont ? { page: text, continue: cont } : { page: text };
    }))
      pages.push(page);
  }
  return pages;
}

export function namespacedOnly<T extends { namespace?: string }>(planned: T[]): T[] {
  return planned.filter((p) => p.namespace !== undefined);
}

/** The limit for backup: the same paginated LISTs with the same client, nothing else. */
export async function rawList(kubeconfig: string, jobs: ListJob[]): Promise<Sample> {
  const cpu = selfCpuSeconds();
  const started = process.hrtime.bigint();
  let count = 0;
  const c = KubeClient.connect({ kubeconfig }, 32);
  await mapLimit(jobs, LIST_CONCURRENCY, async (job) => {
    for await (const page of c.listPages(
      collectionPath(job.type, job.namespace),
      {},
      LIST_PAGE_SIZE,
    ))
      count += page.length;
  });
  return {
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    objects: count,
    cpuSeconds: selfCpuSeconds() - cpu,
  };
}

/** kubectl get -o json, once per namespaced resource type across all namespaces. */
export async function kubectlGet(
  kubectl: string,
  resources: string[],
  env: NodeJS.ProcessEnv,
): Promise<Sample> {
  let seconds = 0;
  let cpuSeconds = 0;
  let count = 0;
  for (const name of resources) {
    const m = await measureProcess(kubectl, ['get', name, '-A', '-o', 'json'], env);
    seconds += m.seconds;
    cpuSeconds += m.cpuSeconds;
    count += (JSON.parse(m.stdout) as { items: unknown[] }).items.length;
  }
  return { seconds, objects: count, cpuSeconds };
}

/**
 * The limit for restore at one concurrency: raw parallel creates of exactly the sanitised
 * objects a restore sends, into the plan's (fresh) namespaces. Namespaces are created first.
 * Cluster-scoped objects of the closure (the ClusterRoles the RoleBindings name) exist already
 * and are the same for every copy, so they are left out.
 */
export async function rawCreates(
  kubeconfig: string,
  plan: RestorePlan,
  concurrency: number,
  beforeStart: () => Promise<void>,
): Promise<Sample> {
  const c = KubeClient.connect({ kubeconfig }, concurrency);
  await beforeStart();
  const cpu = selfCpuSeconds();
  const started = process.hrtime.bigint();
  let count = 0;
  for (const ns of plan.namespaces)
    await c.request('POST', collectionPath(ns.type), { body: await ns.materialize() });
  for (const tier of plan.tiers) {
    await mapLimit(namespacedOnly(tier), concurrency, async (p) => {
      await c.request('POST', collectionPath(p.type, p.namespace), {
        body: await p.materialize(),
      });
      count++;
    });
  }
  return {
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    objects: count + plan.namespaces.length,
    cpuSeconds: selfCpuSeconds() - cpu,
  };
}

/** kubectl create -f of the same manifests as one List, written to `file` first. */
export async function kubectlCreate(
  kubectl: string,
  plan: RestorePlan,
  file: string,
  env: NodeJS.ProcessEnv,
  beforeStart: () => Promise<void>,
): Promise<Sample> {
  // Written item by item: 50,000 objects are more than one JavaScript string can hold.
  const planned = [...plan.namespaces, ...namespacedOnly(plan.tiers.flat())];
  const fd = openSync(file, 'w');
  writeSync(fd, '{"apiVersion":"v1","kind":"List","items":[');
  for (const [i, p] of planned.entries()) {
    writeSync(fd, `${i ? ',' : ''}${JSON.stringify(await p.materialize())}`);
  }
  writeSync(fd, ']}');
  closeSync(fd);
  await beforeStart();
  const k = await measureProcess(kubectl, ['create', '-f', file, '-o', 'name'], env);
  return {
    seconds: k.seconds,
    objects: planned.length,
    peakRssMiB: k.peakRssMiB,
    cpuSeconds: k.cpuSeconds,
  };
}
