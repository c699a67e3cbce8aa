// Acting as a ServiceAccount in e2e tests: a kubeconfig with only its token, and a Job's
// container command run locally with nothing but that token and the Secret's values; what
// a schedule owns, listed as cluster admin.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { expect } from 'vitest';
import { api, cluster, kubeConfig, tempDir } from './helpers.js';

const execFileP = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const LAUNCHER = join(ROOT, 'bin', 'kubectl-snapshot');
const IMAGE_BINARY = '/kubectl-snapshot';

const core = () => api(k8s.CoreV1Api);
const batch = () => api(k8s.BatchV1Api);
const rbacApi = () => api(k8s.RbacAuthorizationV1Api);

/** A kubeconfig holding only a bearer token, with the server and CA of the admin kubeconfig. */
export function tokenKubeconfig(token: string): string {
  const c = kubeConfig().getCurrentCluster();
  if (!c?.caData) throw new Error('admin kubeconfig has no certificate-authority-data');
  const path = join(tempDir('ks-sa-'), 'kubeconfig');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'c', cluster: { server: c.server, 'certificate-authority-data': c.caData } },
      ],
      users: [{ name: 'sa', user: { token } }],
      contexts: [{ name: 'sa', context: { cluster: 'c', user: 'sa' } }],
      'current-context': 'sa',
    }),
    { mode: 0o600 },
  );
  return path;
}

/** A token for a ServiceAccount, from the TokenRequest API (what the kubelet mounts). */
export async function serviceAccountToken(ns: string, name: string): Promise<string> {
  const tr = await core().createNamespacedServiceAccountToken({
    name,
    namespace: ns,
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    },
  });
  if (!tr.status?.token) throw new Error('TokenRequest returned no token');
  return tr.status.token;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** The container's environment as the kubelet builds it: envFrom first, then env over it. */
async function containerEnv(c: k8s.V1Container, ns: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const secretData = async (name: string) => {
    const s = await core().readNamespacedSecret({ name, namespace: ns });
    return Object.fromEntries(
      Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
  };
  for (const src of c.envFrom ?? []) {
    let data: Record<string, string>;
    if (src.secretRef) data = await secretData(src.secretRef.name as string);
    else if (src.configMapRef)
      data =
        (
          await core().readNamespacedConfigMap({
            name: src.configMapRef.name as string,
            namespace: ns,
          })
        ).data ?? {};
    else throw new Error(`unsupported envFrom ${JSON.stringify(src)}`);
    for (const [k, v] of Object.entries(data)) {
      const key = `${src.prefix ?? ''}${k}`;
      if (ENV_NAME.test(key)) out[key] = v;
    }
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) out[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      const v = (await secretData(ref.name as string))[ref.key];
      if (v === undefined && !ref.optional) throw new Error(`secret key ${ref.key} missing`);
      if (v !== undefined) out[e.name] = v;
    } else throw new Error(`unsupported env ${JSON.stringify(e)}`);
  }
  return out;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a Job's container command locally: the image's binary path maps to the development
 * launcher; the environment is the container's plus PATH and an empty HOME; Kubernetes access
 * comes from `kube` only (no admin kubeconfig, no MinIO credentials but the Secret's).
 */
export async function runContainer(
  job: k8s.V1Job,
  kube: { KUBECONFIG: string } | { inCluster: { token: string; ca: string; namespace: string } },
): Promise<Run> {
  const c = job.spec?.template.spec?.containers[0] as k8s.V1Container;
  expect(c.command).toEqual([IMAGE_BINARY]);
  const env: Record<string, string> = {
    ...(await containerEnv(c, job.metadata?.namespace as string)),
    PATH: process.env.PATH as string,
    HOME: tempDir('ks-home-'),
  };
  let file = LAUNCHER;
  let args = c.args ?? [];
  if ('KUBECONFIG' in kube) env.KUBECONFIG = kube.KUBECONFIG;
  else {
    // A Pod's view: the ServiceAccount files at the well-known path (in a private mount
    // namespace, so nothing on this machine changes) and the service host/port variables.
    const dir = tempDir('ks-sa-files-');
    writeFileSync(join(dir, 'token'), kube.inCluster.token);
    writeFileSync(join(dir, 'ca.crt'), kube.inCluster.ca);
    writeFileSync(join(dir, 'namespace'), kube.inCluster.namespace);
    const server = new URL(cluster().server);
    env.KUBERNETES_SERVICE_HOST = server.hostname;
    env.KUBERNETES_SERVICE_PORT = server.port;
    file = 'unshare';
    args = [
      '-rm',
      'sh',
      '-c',
      'set -e; mount -t tmpfs tmpfs /run; d=/var/run/secrets/kubernetes.io/serviceaccount; ' +
        'mkdir -p "$d"; cp "$1/token" "$1/ca.crt" "$1/namespace" "$d/"; shift; exec "$@"',
      'sh',
      dir,
      LAUNCHER,
      ...args,
    ];
  }
  try {
    const { stdout, stderr } = await execFileP(file, args, { env, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Every object carrying a schedule's labels, as "Kind namespace/name". */
export async function ownedBy(name: string, ins: string): Promise<string[]> {
  const sel = `kubectl-snapshot/schedule=${name},kubectl-snapshot/schedule-namespace=${ins}`;
  const found: string[] = [];
  const add = (kind: string, items: { metadata?: k8s.V1ObjectMeta }[]) => {
    for (const i of items) found.push(`${kind} ${i.metadata?.namespace ?? ''}/${i.metadata?.name}`);
  };
  add('CronJob', (await batch().listCronJobForAllNamespaces({ labelSelector: sel })).items);
  add('Job', (await batch().listJobForAllNamespaces({ labelSelector: sel })).items);
  add('Pod', (await core().listPodForAllNamespaces({ labelSelector: sel })).items);
  add(
    'ServiceAccount',
    (await core().listServiceAccountForAllNamespaces({ labelSelector: sel })).items,
  );
  add('Secret', (await core().listSecretForAllNamespaces({ labelSelector: sel })).items);
  add('ConfigMap', (await core().listConfigMapForAllNamespaces({ labelSelector: sel })).items);
  add('Role', (await rbacApi().listRoleForAllNamespaces({ labelSelector: sel })).items);
  add(
    'RoleBinding',
    (await rbacApi().listRoleBindingForAllNamespaces({ labelSelector: sel })).items,
  );
  add('ClusterRole', (await rbacApi().listClusterRole({ labelSelector: sel })).items);
  add('ClusterRoleBinding', (await rbacApi().listClusterRoleBinding({ labelSelector: sel })).items);
  return found.sort();
}

const RBAC = 'rbac.authorization.k8s.io';

/**
 * A namespace admin: ServiceAccount `dev` in the first namespace, bound by RoleBindings to the
 * built-in `admin` ClusterRole in each namespace; returns a kubeconfig with its token once the
 * bindings take effect.
 */
export async function namespaceAdmin(namespaces: string[]): Promise<string> {
  const [home] = namespaces as [string];
  const objects = k8s.KubernetesObjectApi.makeApiClient(kubeConfig());
  await objects.create({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'dev', namespace: home },
  });
  for (const ns of namespaces)
    await objects.create({
      apiVersion: `${RBAC}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'dev-admin', namespace: ns },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'dev', namespace: home }],
    } as k8s.KubernetesObject);
  const kubeconfig = tokenKubeconfig(await serviceAccountToken(home, 'dev'));
  const asDev = api(k8s.CoreV1Api, kubeconfig);
  for (const ns of namespaces) {
    const deadline = Date.now() + 60_000;
    // RBAC is read from an informer: the bindings take effect shortly after they are made.
    for (;;) {
      try {
        await asDev.listNamespacedSecret({ namespace: ns });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
  return kubeconfig;
}
