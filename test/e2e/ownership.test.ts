// Field ownership survives a disaster restore (issue 18, item 3): an operator applies its
// manifests with `kubectl apply --server-side`; after the namespace and CRD are deleted and
// restored, the operator's own re-apply has no conflicts and its fields are still its own.
// Checked with kubectl, which reads and writes managedFields independently of the tool.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cluster, tempDir, uniqueName, until } from './helpers.js';
import { directoryStorage, type StorageKind } from './storage-kinds.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(...args: string[]): Run {
  try {
    const stdout = execFileSync(
      join(cluster().binDir, 'kubectl'),
      ['--kubeconfig', cluster().kubeconfig, ...args],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    return { code: e.status ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function ok(...args: string[]): string {
  const r = kubectl(...args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `kubectl apply --server-side` of these objects as `manager`, without --force-conflicts. */
function apply(dir: string, manager: string, items: object[]): Run {
  const path = join(dir, `${manager}-${Date.now()}.json`);
  writeFileSync(path, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  return kubectl('apply', '--server-side', '--field-manager', manager, '-f', path);
}

interface Entry {
  manager: string;
  operation: string;
  fieldsV1?: Record<string, unknown>;
}

function managedFields(...target: string[]): Entry[] {
  const obj = JSON.parse(ok('get', ...target, '-o', 'json', '--show-managed-fields')) as {
    metadata: { managedFields?: Entry[] };
  };
  return obj.metadata.managedFields ?? [];
}

const MANAGER = 'my-operator';

// ---- builders of the operator-shaped application ----

const schema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

function multiVersionCrd(group: string) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } },
        { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: schema } },
      ],
    },
  };
}

function deployment(ns: string, cpu: string) {
  const labels = { app: 'operator' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'operator', namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'operator',
              image: 'registry.example/operator:1.0',
              env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
              resources: { limits: { cpu } },
              volumeMounts: [{ name: 'config', mountPath: '/etc/operator' }],
            },
          ],
          volumes: [
            { name: 'config', projected: { sources: [{ configMap: { name: 'config' } }] } },
          ],
        },
      },
    },
  };
}

function manifests(ns: string, group: string, cpu = '1000m') {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    multiVersionCrd(group),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'config', namespace: ns },
      data: { a: '1' },
    },
    deployment(ns, cpu),
    // A custom resource, so that the backup's closure takes the CRD along.
    {
      apiVersion: `${group}/v1`,
      kind: 'Widget',
      metadata: { name: 'main', namespace: ns },
      spec: { size: 3 },
    },
  ];
}

/** Whether `manager`'s Apply entry owns the container's fieldRef and cpu limit. */
function ownsPodFields(entries: Entry[], manager: string): boolean {
  const e = entries.find((x) => x.manager === manager && x.operation === 'Apply');
  const text = JSON.stringify(e?.fieldsV1 ?? {});
  return text.includes('"f:fieldRef"') && text.includes('"f:cpu"');
}

describe('a restore keeps field ownership', () => {
  const ns = uniqueName('own');
  const clone = `${ns}-c`;
  const group = `${uniqueName('g')}.example.com`;
  const crdName = `widgets.${group}`;
  const dir = tempDir('ks-own-');
  const snapshot = uniqueName('own');
  let storage: StorageKind;

  beforeAll(async () => {
    storage = directoryStorage();
    const first = apply(dir, MANAGER, manifests(ns, group).slice(0, 2));
    expect(first.code, first.stderr).toBe(0);
    ok('wait', '--for', 'condition=Established', '--timeout', '60s', `crd/${crdName}`);
    await until('the widget type to be served', async () =>
      kubectl('get', crdName, '-n', ns).code === 0 ? true : undefined,
    );
    const rest = apply(dir, MANAGER, manifests(ns, group));
    expect(rest.code, rest.stderr).toBe(0);
    const b = await storage.cli(['backup', snapshot, '-n', ns]);
    expect(b.code, b.stderr).toBe(0);
  });

  afterAll(() => {
    kubectl('delete', 'namespace', ns, clone, '--ignore-not-found', '--wait=false');
    kubectl('delete', 'crd', crdName, '--ignore-not-found', '--wait=false');
  });

  it('after the namespace and CRD are lost, the operator owns its fields again and re-applies with zero conflicts', async () => {
    ok('delete', 'namespace', ns, '--timeout', '120s');
    ok('delete', 'crd', crdName, '--timeout', '120s');
    expect(kubectl('get', 'crd', crdName).code).not.toBe(0);

    const r = await storage.cli(['restore', snapshot]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).not.toMatch(/field owners not restored/);

    // (a) The managers are the backup's, not the restore.
    const dep = managedFields('deployment', 'operator', '-n', ns);
    expect(ownsPodFields(dep, MANAGER)).toBe(true);
    expect(dep.some((e) => e.manager === 'kubectl-snapshot')).toBe(false);
    for (const target of [
      ['crd', crdName],
      ['configmap', 'config', '-n', ns],
    ]) {
      const entries = managedFields(...target);
      expect(
        entries.map((e) => e.manager),
        target.join(' '),
      ).toContain(MANAGER);
      expect(
        entries.some((e) => e.manager === 'kubectl-snapshot'),
        target.join(' '),
      ).toBe(false);
    }
    const crdOwner = managedFields('crd', crdName).find((e) => e.manager === MANAGER);
    expect(JSON.stringify(crdOwner?.fieldsV1)).toContain('"f:versions"');

    // (b) The operator's own manifests, unchanged, apply without --force-conflicts.
    const again = apply(dir, MANAGER, manifests(ns, group));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/conflict/i);

    // (c) The ownership is real: another manager changing the cpu limit conflicts with it.
    const other = apply(dir, 'someone-else', [deployment(ns, '2')]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/conflicts? with "my-operator"/);
    expect(other.stderr).toContain('.resources.limits.cpu');
  });

  it('without field owners (--keep-field-owners=false, the old behaviour) the same re-apply conflicts with kubectl-snapshot', async () => {
    const r = await storage.cli([
      'restore',
      snapshot,
      '--namespace-mapping',
      `${ns}=${clone}`,
      '--keep-field-owners=false',
    ]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const dep = managedFields('deployment', 'operator', '-n', clone);
    expect(ownsPodFields(dep, MANAGER)).toBe(false);
    expect(dep.map((e) => e.manager)).toContain('kubectl-snapshot');
    const again = apply(dir, MANAGER, [deployment(clone, '1000m')]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/conflicts? with "kubectl-snapshot"/);
  });

  it('a field a transform changed belongs to kubectl-snapshot alone: re-applying the old value conflicts on that field only', async () => {
    const target = `${ns}-z`;
    const r = await storage.cli([
      'restore',
      snapshot,
      '--namespace-mapping',
      `${ns}=${target}`,
      '--replicas-to-zero',
    ]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    try {
      const dep = managedFields('deployment', 'operator', '-n', target);
      expect(ownsPodFields(dep, MANAGER)).toBe(true);
      const mine = dep.find((e) => e.manager === 'kubectl-snapshot');
      expect(mine?.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
      const again = apply(dir, MANAGER, [deployment(target, '1000m')]);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toMatch(/conflicts? with "kubectl-snapshot"/);
      expect(again.stderr).toContain('.spec.replicas');
      expect(again.stderr).not.toContain('.resources.limits.cpu');
    } finally {
      kubectl('delete', 'namespace', target, '--ignore-not-found', '--wait=false');
    }
  });
});
