// Restore-time transforms end to end: a namespace cloned with --resource-modifiers and each
// shortcut, read back with kubectl; the same restore again finds everything identical; the
// clone carries no Argo CD / Flux tracking metadata while the original keeps it.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  configMap,
  create,
  cronJob,
  deployment,
  namespace,
  type Obj,
  persistentVolumeClaim,
  statefulSet,
  storageClass,
} from './fixtures.js';
import { cluster, tempDir, uniqueName } from './helpers.js';
import { directoryStorage, type StorageKind } from './storage-kinds.js';

/** kubectl's exit code, for what must not exist. */
const kubectlCode = (...args: string[]) =>
  spawnSync(join(cluster().binDir, 'kubectl'), ['--kubeconfig', cluster().kubeconfig, ...args])
    .status;

const kubectl = (...args: string[]) =>
  JSON.parse(
    execFileSync(
      join(cluster().binDir, 'kubectl'),
      ['--kubeconfig', cluster().kubeconfig, ...args, '-o', 'json'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  );

const TRACKING = {
  labels: { 'argocd.argoproj.io/instance': 'shop', 'kustomize.toolkit.fluxcd.io/name': 'apps' },
  annotations: {
    'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:shop/web',
    'helm.toolkit.fluxcd.io/name': 'web',
  },
};

function tracked(o: Obj): Obj {
  const meta = o.metadata as {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  meta.labels = { ...meta.labels, ...TRACKING.labels };
  meta.annotations = { ...meta.annotations, ...TRACKING.annotations };
  return o;
}

const RULES = `version: v1
resourceModifierRules:
- conditions:
    groupResource: configmaps
    resourceNameRegex: "^settings$"
  patches:
  - {operation: replace, path: /data/mode, value: safe}
- conditions:
    groupResource: deployments.apps
  mergePatches:
  - patchData: |
      metadata:
        labels:
          env: staging
`;

interface Result {
  resource: string;
  name: string;
  outcome: string;
  transforms?: string[];
}

describe('restore-time transforms on a namespace clone', () => {
  const ns = uniqueName('tx');
  const copy = `${ns}-copy`;
  // The class the mapping leads to exists, as on a real target cluster (the preflight checks it).
  const fast = uniqueName('fast');
  let storage: StorageKind;
  let flags: string[];

  beforeAll(async () => {
    storage = directoryStorage();
    const web = tracked(deployment(ns, 'web', 2));
    (
      (web.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec
        .containers[0] as { image: string }
    ).image = 'docker.io/library/nginx:1.27';
    const db = statefulSet(ns, 'db');
    (db.spec as Record<string, unknown>).volumeClaimTemplates = [
      {
        metadata: { name: 'data' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: 'manual',
          resources: { requests: { storage: '1Gi' } },
        },
      },
    ];
    const job = cronJob(ns, 'nightly');
    (
      (
        job.spec as {
          jobTemplate: { spec: { template: { spec: { containers: { image: string }[] } } } };
        }
      ).jobTemplate.spec.template.spec.containers[0] as { image: string }
    ).image = 'docker.io/library/busybox:1.36';
    await create([
      storageClass(fast),
      namespace(ns),
      tracked(configMap(ns, 'settings', { mode: 'fast' })),
      web,
      db,
      job,
      persistentVolumeClaim(ns, 'data'),
    ]);
    const b = await storage.cli(['backup', 'tx', '-n', ns]);
    expect(b.code, b.stderr).toBe(0);
    const rules = join(tempDir('ks-rules-'), 'rules.yaml');
    writeFileSync(rules, RULES);
    flags = [
      'tx',
      '--namespace-mapping',
      `${ns}=${copy}`,
      '--resource-modifiers',
      rules,
      '--storage-class-mapping',
      `manual=${fast}`,
      '--image-registry-mapping',
      'docker.io=mirror.local',
      '--replicas-to-zero',
      '-o',
      'json',
    ];
  }, 120_000);

  it('creates the transformed objects, reports the rules, and finds them identical the second time', async () => {
    const first = await storage.cli(['restore', ...flags]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('removed Argo CD / Flux tracking');
    const results = (JSON.parse(first.stdout) as { results: Result[] }).results;
    const byName = (resource: string, name: string) =>
      results.find((r) => r.resource === resource && r.name === name);
    expect(byName('configmaps', 'settings')?.transforms).toEqual([
      'resourceModifierRules[0]',
      'gitops-tracking-removal',
    ]);
    expect(byName('deployments.apps', 'web')?.transforms).toEqual([
      'resourceModifierRules[1]',
      '--image-registry-mapping docker.io=mirror.local',
      '--replicas-to-zero',
      'gitops-tracking-removal',
    ]);

    const cm = kubectl('get', 'configmap', 'settings', '-n', copy);
    expect(cm.data).toEqual({ mode: 'safe' });
    const web = kubectl('get', 'deployment', 'web', '-n', copy);
    expect(web.spec.replicas).toBe(0);
    expect(web.spec.template.spec.containers[0].image).toBe('mirror.local/library/nginx:1.27');
    expect(web.metadata.labels).toEqual({ app: 'web', env: 'staging' });
    expect(
      Object.keys(web.metadata.annotations ?? {}).filter((k) => /argoproj|fluxcd/.test(k)),
    ).toEqual([]);
    const db = kubectl('get', 'statefulset', 'db', '-n', copy);
    expect(db.spec.replicas).toBe(0);
    expect(db.spec.volumeClaimTemplates[0].spec.storageClassName).toBe(fast);
    expect(kubectl('get', 'pvc', 'data', '-n', copy).spec.storageClassName).toBe(fast);
    const job = kubectl('get', 'cronjob', 'nightly', '-n', copy);
    expect(job.spec.jobTemplate.spec.template.spec.containers[0].image).toBe(
      'mirror.local/library/busybox:1.36',
    );

    // The original keeps its tracking metadata.
    const original = kubectl('get', 'deployment', 'web', '-n', ns);
    expect(original.metadata.labels).toMatchObject(TRACKING.labels);
    expect(original.metadata.annotations).toMatchObject(TRACKING.annotations);
    expect(kubectl('get', 'configmap', 'settings', '-n', ns).metadata.labels).toMatchObject(
      TRACKING.labels,
    );

    const second = await storage.cli(['restore', ...flags]);
    expect(second.code, second.stderr).toBe(0);
    const again = (JSON.parse(second.stdout) as { results: Result[] }).results.filter(
      (r) => r.outcome !== 'skipped',
    );
    expect(again.length).toBeGreaterThan(5);
    expect(again.filter((r) => r.outcome !== 'exists-identical')).toEqual([]);

    // The same rules from a Velero ConfigMap, through diff: still everything identical.
    await create([{ ...configMap(ns, 'mods', { 'rules.yaml': RULES }) }]);
    const viaConfigMap = flags.map((f) => (f.endsWith('rules.yaml') ? `configmap:${ns}/mods` : f));
    const d = await storage.cli(['diff', ...viaConfigMap]);
    expect(d.code, d.stderr).toBe(0);
    const compared = (JSON.parse(d.stdout) as { results: Result[] }).results.filter(
      (r) => r.outcome !== 'skipped',
    );
    expect(compared.filter((r) => r.outcome !== 'exists-identical')).toEqual([]);
  }, 180_000);

  it('a patch of a path an object lacks is an error before anything is created: exit 1', async () => {
    const rules = join(tempDir('ks-rules-'), 'missing-path.yaml');
    writeFileSync(
      rules,
      [
        'version: v1',
        'resourceModifierRules:',
        '- conditions:',
        '    groupResource: configmaps',
        '  patches:',
        '  - operation: replace',
        '    path: /data/no-such-key',
        '    value: x',
        '',
      ].join('\n'),
    );
    const target = `${ns}-bad`;
    const r = await storage.cli([
      'restore',
      'tx',
      '--namespace-mapping',
      `${ns}=${target}`,
      '--resource-modifiers',
      rules,
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^error: .*no-such-key/m);
    // Nothing was created: not even the namespace (which comes before the ConfigMaps).
    expect(kubectlCode('get', 'namespace', target)).not.toBe(0);
  });
});
