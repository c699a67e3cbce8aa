// Deterministic (seeded) test data: N objects across M namespaces in a realistic mix, with
// object sizes from 0.5 KB to 50 KB, created in parallel.
import { mapLimit } from '../src/core/pool.js';
import type { KubeObject } from '../src/core/types.js';
import type { KubeClient } from '../src/kube/client.js';
import { generateRealistic } from './realistic.js';

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const BENCH_GROUP = 'bench.kubectl-snapshot.io';

const MIX: [kind: string, share: number][] = [
  ['ConfigMap', 0.35],
  ['Secret', 0.25],
  ['Deployment', 0.1],
  ['Service', 0.1],
  ['ServiceAccount', 0.08],
  ['RoleBinding', 0.07],
  ['Widget', 0.05],
];

/** Mostly small objects, a long tail up to 50 KB (log-uniform between 0.5 and 50 KB). */
function payloadSize(r: () => number): number {
  return Math.round(512 * 100 ** r());
}

function filler(r: () => number, bytes: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 ';
  let s = '';
  // Repetitive enough to compress like real config, random enough not to vanish.
  const word = () =>
    Array.from(
      { length: 3 + Math.floor(r() * 8) },
      () => alphabet[Math.floor(r() * alphabet.length)],
    ).join('');
  while (s.length < bytes) s += `${word()} `;
  return s.slice(0, bytes);
}

export interface GeneratedObject {
  path: string;
  object: KubeObject;
}

export function benchNamespaces(m: number): string[] {
  return Array.from({ length: m }, (_, i) => `bench-${String(i).padStart(3, '0')}`);
}

export function generate(n: number, namespaces: string[], seed = 42): GeneratedObject[] {
  const r = rng(seed);
  const out: GeneratedObject[] = [];
  for (let i = 0; i < n; i++) {
    const ns = namespaces[i % namespaces.length] as string;
    let x = r();
    let kind = 'ConfigMap';
    for (const [k, share] of MIX) {
      if (x < share) {
        kind = k;
        break;
      }
      x -= share;
    }
    const name = `${kind.toLowerCase()}-${i}`;
    const size = payloadSize(r);
    const labels = { app: `app-${i % 50}`, bench: 'true' };
    const meta = { name, namespace: ns, labels };
    switch (kind) {
      case 'ConfigMap':
        out.push({
          path: `/api/v1/namespaces/${ns}/configmaps`,
          object: {
            apiVersion: 'v1',
            kind,
            metadata: meta,
            data: { 'config.txt': filler(r, size) },
          },
        });
        break;
      case 'Secret':
        out.push({
          path: `/api/v1/namespaces/${ns}/secrets`,
          object: {
            apiVersion: 'v1',
            kind,
            metadata: meta,
            type: 'Opaque',
            stringData: { token: filler(r, size) },
          },
        });
        break;
      case 'Deployment':
        out.push({
          path: `/apis/apps/v1/namespaces/${ns}/deployments`,
          object: {
            apiVersion: 'apps/v1',
            kind,
            metadata: { ...meta, annotations: { description: filler(r, size) } },
            spec: {
              replicas: 0, // no Pods: the benchmark measures objects, not the scheduler
              selector: { matchLabels: { app: name } },
              template: {
                metadata: { labels: { app: name } },
                spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
              },
            },
          },
        });
        break;
      case 'Service':
        out.push({
          path: `/api/v1/namespaces/${ns}/services`,
          object: {
            apiVersion: 'v1',
            kind,
            metadata: { ...meta, annotations: { description: filler(r, Math.min(size, 8000)) } },
            // No selector: no Endpoints churn from the controllers.
            spec: { ports: [{ port: 80 }] },
          },
        });
        break;
      case 'ServiceAccount':
        out.push({
          path: `/api/v1/namespaces/${ns}/serviceaccounts`,
          object: {
            apiVersion: 'v1',
            kind,
            metadata: { ...meta, annotations: { description: filler(r, size) } },
          },
        });
        break;
      case 'RoleBinding':
        out.push({
          path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
          object: {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind,
            metadata: { ...meta, annotations: { description: filler(r, Math.min(size, 8000)) } },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
            subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }],
          },
        });
        break;
      default:
        out.push({
          path: `/apis/${BENCH_GROUP}/v1/namespaces/${ns}/widgets`,
          object: {
            apiVersion: `${BENCH_GROUP}/v1`,
            kind: 'Widget',
            metadata: meta,
            spec: { blob: filler(r, size) },
          },
        });
    }
  }
  return out;
}

export const WIDGET_CRD: KubeObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${BENCH_GROUP}` },
  spec: {
    group: BENCH_GROUP,
    scope: 'Namespaced',
    names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        },
      },
    ],
  },
};

/**
 * `realistic`: whole applications (bench/realistic.ts), compressing like real manifests;
 * `random`: the objects above, whose random characters gzip cannot compress.
 */
export type Payload = 'realistic' | 'random';

/** Creates the CRD, the namespaces and every object (parallel, bounded). */
export async function populate(
  client: KubeClient,
  n: number,
  namespaces: string[],
  payload: Payload,
  seed = 42,
): Promise<GeneratedObject[]> {
  await client
    .request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      body: WIDGET_CRD,
    })
    .catch(() => {});
  for (let i = 0; i < 100; i++) {
    try {
      await client.get(`/apis/${BENCH_GROUP}/v1/widgets`, { limit: 1 });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  for (const ns of namespaces) {
    await client
      .request('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      })
      .catch(() => {});
  }
  const objs =
    payload === 'realistic'
      ? generateRealistic(n, namespaces, seed)
      : generate(n, namespaces, seed);
  await mapLimit(objs, 32, (o) => client.request('POST', o.path, { body: o.object }));
  return objs;
}
