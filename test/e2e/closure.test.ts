// The application closure end to end: an operator-shaped namespace, applied with
// `kubectl apply --server-side` as users do, survives the loss of its namespace, its CRDs and
// its ClusterRoles through a plain backup and restore. Checked with kubectl.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crd } from './fixtures.js';
import { kubectl, tempDir, uniqueName, until } from './helpers.js';
import { clusterPath, directoryStorage, readSnapshot, type StorageKind } from './storage-kinds.js';

/** `kubectl apply --server-side` of these objects, as one file. */
function apply(dir: string, file: string, items: object[]): void {
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  kubectl('apply', '--server-side', '--field-manager', 'e2e-user', '-f', path);
}

const CRDS = 'customresourcedefinitions.apiextensions.k8s.io';

describe('an operator comes back working after its namespace, CRDs and ClusterRoles are deleted', () => {
  const ns = uniqueName('op');
  const group = `${uniqueName('g')}.example.com`;
  const plurals = ['brokers', 'topics', 'users'];
  const kinds = ['Broker', 'Topic', 'User'];
  const crdNames = plurals.map((p) => `${p}.${group}`);
  const operatorRole = `${ns}-operator`;
  const aggregated = `${ns}-aggregated`;
  const part = `${ns}-part`;
  const aggregateLabel = `${group}/aggregate-to-operator`;
  // Cluster-wide: the operator watches namespaces (a ClusterRoleBinding of the namespace's account).
  const watcherRole = `${ns}-watcher`;
  const clusterRoles = [operatorRole, aggregated, part, watcherRole];
  const webhook = `${ns}-validator`;
  // A short name of its own: `kubectl get <short>` and our filters know brokers by it.
  const brokerShort = `brk${ns.replace(/[^a-z0-9]/g, '').slice(-8)}`;
  const sa = `system:serviceaccount:${ns}:operator`;
  let storage: StorageKind;
  const dir = tempDir('ks-closure-');

  /** fixtures.crd in the JSON spelling kubectl sends (not client-node's model names). */
  const crdJson = (plural: string, kind: string) => {
    const c = JSON.parse(
      JSON.stringify(crd(group, kind, plural)).replace(
        'x_kubernetes_preserve_unknown_fields',
        'x-kubernetes-preserve-unknown-fields',
      ),
    ) as { spec: { names: Record<string, unknown> } };
    if (plural === 'brokers') c.spec.names.shortNames = [brokerShort];
    return c;
  };
  const rbac = 'rbac.authorization.k8s.io';
  const binding = (name: string, role: string) => ({
    apiVersion: `${rbac}/v1`,
    kind: 'RoleBinding',
    metadata: { name, namespace: ns },
    roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: role },
    subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace: ns }],
  });
  const canI = (verb: string, resource: string) => {
    try {
      return kubectl('auth', 'can-i', verb, resource, '-n', ns, '--as', sa).trim();
    } catch (err) {
      // `kubectl auth can-i` answers no with exit code 1.
      return String((err as { stdout?: string }).stdout ?? '').trim() || 'error';
    }
  };

  beforeAll(async () => {
    storage = directoryStorage();
    apply(dir, 'crds.json', [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      ...plurals.map((p, i) => crdJson(p, kinds[i] as string)),
    ]);
    kubectl(
      'wait',
      '--for',
      'condition=Established',
      '--timeout',
      '60s',
      ...crdNames.map((n) => `crd/${n}`),
    );
    // The operator: its account, a ClusterRole naming the three types bound in the namespace,
    // and an aggregated ClusterRole whose part grants deleting topics. One custom resource.
    await until(`${crdNames[0]} served`, async () => {
      try {
        kubectl('get', crdNames[0] as string, '-n', ns);
        return true;
      } catch {
        return undefined;
      }
    });
    apply(dir, 'operator.json', [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'operator', namespace: ns } },
      {
        apiVersion: `${rbac}/v1`,
        kind: 'ClusterRole',
        metadata: { name: operatorRole },
        rules: [{ apiGroups: [group], resources: plurals, verbs: ['get', 'list', 'watch'] }],
      },
      {
        apiVersion: `${rbac}/v1`,
        kind: 'ClusterRole',
        metadata: { name: aggregated },
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [aggregateLabel]: 'true' } }] },
      },
      {
        apiVersion: `${rbac}/v1`,
        kind: 'ClusterRole',
        metadata: { name: part, labels: { [aggregateLabel]: 'true' } },
        rules: [{ apiGroups: [group], resources: ['topics'], verbs: ['delete'] }],
      },
      binding('operator', operatorRole),
      binding('operator-aggregated', aggregated),
      {
        apiVersion: `${rbac}/v1`,
        kind: 'ClusterRole',
        metadata: { name: watcherRole },
        rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] }],
      },
      {
        apiVersion: `${rbac}/v1`,
        kind: 'ClusterRoleBinding',
        metadata: { name: watcherRole },
        roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: watcherRole },
        subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace: ns }],
      },
      {
        apiVersion: `${group}/v1`,
        kind: 'Broker',
        metadata: { name: 'main', namespace: ns },
        spec: { replicas: 3 },
      },
    ]);
    await until('the aggregated ClusterRole to grant deleting topics', async () =>
      canI('delete', `topics.${group}`) === 'yes' ? true : undefined,
    );
    // The operator's webhook, whose Service does not run (the operator is down in a disaster).
    // It ignores failures, as operators that must not block their own recovery do; it stays
    // in the cluster when the namespace goes.
    apply(dir, 'webhook.json', [
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: webhook },
        webhooks: [
          {
            name: `validate.${group}`,
            admissionReviewVersions: ['v1'],
            sideEffects: 'None',
            failurePolicy: 'Ignore',
            timeoutSeconds: 2,
            clientConfig: { service: { namespace: ns, name: 'operator-webhook', port: 443 } },
            rules: [
              {
                apiGroups: [group],
                apiVersions: ['v1'],
                operations: ['CREATE', 'UPDATE'],
                resources: plurals,
              },
            ],
          },
        ],
      },
    ]);
  });

  afterAll(() => {
    kubectl('delete', 'namespace', ns, '--ignore-not-found', '--wait=false');
    kubectl('delete', 'crd', ...crdNames, '--ignore-not-found', '--wait=false');
    kubectl('delete', 'clusterrole', ...clusterRoles, '--ignore-not-found');
    kubectl('delete', 'clusterrolebinding', watcherRole, '--ignore-not-found');
    kubectl('delete', 'validatingwebhookconfiguration', webhook, '--ignore-not-found');
  });

  it('restore and diff filters know a custom type by the short name its CRD declares', async () => {
    const name = uniqueName('short');
    const b = await storage.cli(['backup', name, '-n', ns]);
    expect(b.code, b.stderr).toBe(0);
    const snap = await readSnapshot(storage, name);
    expect(snap.manifest.resources).toContainEqual(
      expect.objectContaining({ resource: `brokers.${group}`, shortNames: [brokerShort] }),
    );
    const d = await storage.cli(['diff', name, '--include-resources', brokerShort, '-o', 'json']);
    expect(d.code, d.stderr).toBe(0);
    const results = (JSON.parse(d.stdout) as { results: { resource: string; outcome: string }[] })
      .results;
    const compared = results.filter((r) => r.outcome !== 'skipped').map((r) => r.resource);
    // The broker and what it cannot do without: its Namespace and CRD; nothing else.
    expect([...new Set(compared)].sort()).toEqual([CRDS, `brokers.${group}`, 'namespaces'].sort());
    expect(results.find((r) => r.resource === `brokers.${group}`)?.outcome).toBe(
      'exists-identical',
    );
  });

  it('backup --include-resources of the custom type alone still takes the Namespace object and its CRD', async () => {
    const name = uniqueName('only-brokers');
    const r = await storage.cli(['backup', name, '-n', ns, '--include-resources', 'brokers']);
    expect(r.code, r.stderr).toBe(0);
    const snap = await readSnapshot(storage, name);
    expect([...snap.objects.keys()].sort()).toEqual(
      [
        clusterPath('namespaces', ns),
        clusterPath(CRDS, `brokers.${group}`),
        `resources/brokers.${group}/namespaces/${ns}/main.json`,
      ].sort(),
    );
    const included = snap.log.filter((l) => l.msg === 'included');
    expect(included.find((l) => l.resource === 'namespaces')?.reason).toBe(
      'namespace of the selection',
    );
  });

  it('a plain backup and restore bring back all three CRDs Established, the ClusterRoles, and the rights', async () => {
    const name = uniqueName('operator');
    const b = await storage.cli(['backup', name, '-n', ns]);
    expect(b.code, b.stderr).toBe(0);
    const snap = await readSnapshot(storage, name);
    // Each added object logged with its reason.
    const reasons = Object.fromEntries(
      snap.log
        .filter((l) => l.msg === 'included')
        .map((l) => [`${l.resource}/${l.name}`, l.reason]),
    );
    expect(reasons[`${CRDS}/topics.${group}`]).toMatch(
      /^granted to ServiceAccount .*\/operator by ClusterRole/,
    );
    expect(reasons[`clusterroles.${rbac}/${part}`]).toBe(
      `aggregated into ClusterRole ${aggregated}`,
    );
    // The aggregated ClusterRole is stored with its rule, not the computed rules.
    const stored = snap.objects.get(clusterPath(`clusterroles.${rbac}`, aggregated));
    expect(stored?.aggregationRule).toBeDefined();
    expect(stored).not.toHaveProperty('rules');

    // The disaster.
    kubectl('delete', 'namespace', ns, '--timeout', '120s');
    kubectl('delete', 'crd', ...crdNames, '--timeout', '120s');
    kubectl('delete', 'clusterrole', ...clusterRoles);
    kubectl('delete', 'clusterrolebinding', watcherRole);
    expect(canI('list', `brokers.${group}`)).toBe('no');

    const r = await storage.cli(['restore', name]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);

    for (const crdName of crdNames) {
      expect(
        kubectl(
          'get',
          'crd',
          crdName,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Established")].status}',
        ),
        crdName,
      ).toBe('True');
    }
    for (const role of clusterRoles) {
      expect(kubectl('get', 'clusterrole', role, '-o', 'name').trim()).toBe(
        `clusterrole.${rbac}/${role}`,
      );
    }
    for (const p of plurals) expect(canI('list', `${p}.${group}`), p).toBe('yes');
    expect(kubectl('get', 'clusterrolebinding', watcherRole, '-o', 'name').trim()).toBe(
      `clusterrolebinding.${rbac}/${watcherRole}`,
    );
    expect(canI('watch', 'namespaces')).toBe('yes');
    // The aggregation controller recomputes the aggregated rules from the restored part.
    await until('the restored aggregated ClusterRole to grant deleting topics', async () =>
      canI('delete', `topics.${group}`) === 'yes' ? true : undefined,
    );
    expect(
      kubectl('get', `brokers.${group}`, 'main', '-n', ns, '-o', 'jsonpath={.spec.replicas}'),
    ).toBe('3');

    // Its users re-apply the same manifests as before the disaster: they own their fields
    // again (kubectl fails on any conflict), and the re-apply changes nothing.
    for (const file of ['crds.json', 'operator.json']) {
      const out = kubectl(
        'apply',
        '--server-side',
        '--field-manager',
        'e2e-user',
        '-f',
        join(dir, file),
      );
      expect(out).not.toMatch(/conflict/i);
    }
    expect(
      kubectl(
        'get',
        'crd',
        crdNames[0] as string,
        '-o',
        'jsonpath={.metadata.managedFields[*].manager}',
      ),
    ).toContain('e2e-user');
    const again = await storage.cli(['diff', name, '-o', 'json']);
    const outcomes = (JSON.parse(again.stdout) as { results: { outcome: string }[] }).results.map(
      (x) => x.outcome,
    );
    expect(outcomes).not.toContain('would-create');
    expect(outcomes).not.toContain('failed');
  });
});
