import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/core/types.js';
import {
  applyNamespaceMapping,
  checkMappingTargets,
  parseNamespaceMappings,
} from '../../src/restore/mapping.js';
import { isKind } from '../../src/restore/sanitize.js';
import {
  clusterRoleBinding,
  configMap,
  deployment,
  kubeObject,
  namespace,
  pv,
  roleBinding,
  saSubject,
  secret,
} from './builders.js';
import { userError } from './user-error.js';

const mapping = (pairs: Record<string, string>) => new Map(Object.entries(pairs));

describe('parseNamespaceMappings', () => {
  it('parses OLD=NEW pairs', () => {
    expect(parseNamespaceMappings(['prod=staging', 'db=db-copy'])).toEqual(
      mapping({ prod: 'staging', db: 'db-copy' }),
    );
    expect(parseNamespaceMappings([])).toEqual(new Map());
  });

  it('accepts a repeated identical pair', () => {
    expect(parseNamespaceMappings(['prod=staging', 'prod=staging'])).toEqual(
      mapping({ prod: 'staging' }),
    );
  });

  it('accepts a swap of two namespaces', () => {
    expect(parseNamespaceMappings(['a=b', 'b=a'])).toEqual(mapping({ a: 'b', b: 'a' }));
  });

  it('rejects a pair without = or with an empty side, with a hint', () => {
    for (const spec of ['prod', '=staging', 'prod=', '=']) {
      const err = userError(() => parseNamespaceMappings([spec]));
      expect(err.message).toContain('expected OLD=NEW');
      expect(err.hint).toContain('--namespace-mapping');
    }
  });

  it('rejects names that are not DNS-1123 labels', () => {
    for (const spec of [
      'Prod=staging',
      'prod=staging_2',
      'prod=-x',
      `prod=${'a'.repeat(64)}`,
      'a.b=c',
    ]) {
      expect(userError(() => parseNamespaceMappings([spec])).message).toContain(
        'not a valid namespace name',
      );
    }
  });

  it('rejects one namespace mapped to two targets', () => {
    const err = userError(() => parseNamespaceMappings(['prod=a', 'prod=b']));
    expect(err.message).toBe('namespace "prod" is mapped twice: to "a" and to "b"');
    expect(err.hint).toBeDefined();
  });

  it('rejects two namespaces mapped to one target', () => {
    const err = userError(() => parseNamespaceMappings(['prod=copy', 'dev=copy']));
    expect(err.message).toBe('namespaces "prod" and "dev" are both mapped to "copy"');
    expect(err.hint).toBeDefined();
  });
});

describe('checkMappingTargets', () => {
  it('rejects a target that the restore also fills from an unmapped namespace', () => {
    const err = userError(() =>
      checkMappingTargets(mapping({ prod: 'staging' }), ['prod', 'staging']),
    );
    expect(err.message).toContain('"staging", which this snapshot also restores');
  });

  it('accepts targets outside the restore and targets that are mapped away themselves', () => {
    expect(() => checkMappingTargets(mapping({ prod: 'staging' }), ['prod'])).not.toThrow();
    expect(() => checkMappingTargets(mapping({ a: 'b', b: 'a' }), ['a', 'b'])).not.toThrow();
  });
});

describe('applyNamespaceMapping', () => {
  const m = mapping({ prod: 'staging' });

  it('rewrites metadata.namespace of a namespaced object', () => {
    expect(applyNamespaceMapping(deployment('web', 'prod'), m).metadata.namespace).toBe('staging');
  });

  it('renames the Namespace object itself, with its metadata.name label', () => {
    const out = applyNamespaceMapping(namespace('prod'), m);
    expect(out.metadata.name).toBe('staging');
    expect(out.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'staging' });
  });

  it('rewrites ServiceAccount subjects of RoleBindings and ClusterRoleBindings in mapped namespaces only', () => {
    const rb = applyNamespaceMapping(
      roleBinding('deployer', 'prod', [saSubject('ci', 'prod'), saSubject('ci', 'tools')]),
      m,
    );
    expect(rb.subjects).toEqual([saSubject('ci', 'staging'), saSubject('ci', 'tools')]);
    const crb = applyNamespaceMapping(clusterRoleBinding('view-all', [saSubject('ci', 'prod')]), m);
    expect(crb.subjects).toEqual([saSubject('ci', 'staging')]);
  });

  it('rewrites ServiceAccounts named as RBAC users and groups', () => {
    const crb = clusterRoleBinding('view-all', [
      {
        kind: 'User',
        apiGroup: 'rbac.authorization.k8s.io',
        name: 'system:serviceaccount:prod:ci',
      },
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:serviceaccounts:prod' },
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' },
      {
        kind: 'Group',
        apiGroup: 'rbac.authorization.k8s.io',
        name: 'system:serviceaccounts:tools',
      },
    ]);
    expect(
      (applyNamespaceMapping(crb, m).subjects as { name: string }[]).map((s) => s.name),
    ).toEqual([
      'system:serviceaccount:staging:ci',
      'system:serviceaccounts:staging',
      'alice',
      'system:serviceaccounts:tools',
    ]);
  });

  it('rewrites the claimRef namespace of a PersistentVolume', () => {
    const vol = pv('pv-1', {
      claimRef: { kind: 'PersistentVolumeClaim', namespace: 'prod', name: 'data' },
    });
    expect((applyNamespaceMapping(vol, m).spec as { claimRef: unknown }).claimRef).toEqual({
      kind: 'PersistentVolumeClaim',
      namespace: 'staging',
      name: 'data',
    });
  });

  it('never rewrites strings inside specs or data', () => {
    const cm = configMap('settings', 'prod', {
      DB_HOST: 'db.prod.svc.cluster.local',
      NAMESPACE: 'prod',
    });
    expect(applyNamespaceMapping(cm, m).data).toEqual(cm.data);
    const d = deployment('web', 'prod', {
      template: {
        spec: { containers: [{ name: 'a', image: 'x', env: [{ name: 'NS', value: 'prod' }] }] },
      },
    });
    expect(applyNamespaceMapping(d, m).spec).toEqual(d.spec);
  });

  it('does not modify its input', () => {
    const ns = namespace('prod');
    applyNamespaceMapping(ns, m);
    expect(ns.metadata.name).toBe('prod');
  });
});

describe('applyNamespaceMapping properties', () => {
  const nsName = fc.stringMatching(/^[a-z]([-a-z0-9]{0,8}[a-z0-9])?$/);
  const mappingArb = fc
    .uniqueArray(fc.tuple(nsName, nsName), { selector: ([from]) => from, maxLength: 5 })
    .map((pairs) => new Map(pairs));
  /** Objects of every kind the mapping treats specially, and some it does not, in `ns`. */
  const objectsIn = (ns: string): KubeObject[] => [
    deployment('web', ns),
    configMap('cfg', ns, { NS: ns, HOST: `db.${ns}.svc` }),
    secret('s', ns, { ns: Buffer.from(ns).toString('base64') }),
    namespace(ns),
    roleBinding('rb', ns, [saSubject('ci', ns)]),
    clusterRoleBinding('crb', [saSubject('ci', ns)]),
    pv('pv-1', { claimRef: { kind: 'PersistentVolumeClaim', namespace: ns, name: 'data' } }),
    kubeObject('example.com/v1', 'Widget', 'w', ns, { spec: { target: ns } }),
  ];

  /** A PersistentVolume's claimRef names a namespace; the rest of any spec must stay. */
  const specBesidesClaimRef = (o: KubeObject) =>
    isKind(o, '', 'PersistentVolume') ? { ...(o.spec as object), claimRef: undefined } : o.spec;

  it('never changes objects in unmapped namespaces', () => {
    fc.assert(
      fc.property(mappingArb, nsName, (map, ns) => {
        fc.pre(!map.has(ns));
        for (const obj of objectsIn(ns)) expect(applyNamespaceMapping(obj, map)).toEqual(obj);
      }),
    );
  });

  it('puts a namespace’s objects into the Namespace it renames that namespace to', () => {
    fc.assert(
      fc.property(mappingArb, nsName, (map, ns) => {
        const renamed = applyNamespaceMapping(namespace(ns), map).metadata.name;
        expect(applyNamespaceMapping(deployment('web', ns), map).metadata.namespace).toBe(renamed);
        expect(renamed).toBe(map.get(ns) ?? ns);
      }),
    );
  });

  it('maps a Namespace name once: mapping again changes nothing when no target is also a source', () => {
    fc.assert(
      fc.property(mappingArb, nsName, (map, ns) => {
        fc.pre([...map.values()].every((to) => !map.has(to)));
        const once = applyNamespaceMapping(namespace(ns), map);
        expect(applyNamespaceMapping(once, map)).toEqual(once);
      }),
    );
  });

  it('only ever changes namespace fields: data and specs survive any mapping', () => {
    fc.assert(
      fc.property(mappingArb, nsName, (map, ns) => {
        for (const obj of objectsIn(ns)) {
          const out = applyNamespaceMapping(obj, map);
          expect(out.data).toEqual(obj.data);
          expect(specBesidesClaimRef(out)).toEqual(specBesidesClaimRef(obj));
          if (!isKind(obj, '', 'Namespace')) expect(out.metadata.name).toBe(obj.metadata.name);
        }
      }),
    );
  });

  it('parses every injective mapping it formats', () => {
    fc.assert(
      fc.property(mappingArb, (map) => {
        const targets = [...map.values()];
        fc.pre(new Set(targets).size === targets.length);
        expect(parseNamespaceMappings([...map].map(([a, b]) => `${a}=${b}`))).toEqual(map);
      }),
    );
  });
});
