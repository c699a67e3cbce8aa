// Which objects a server dry run cannot validate because they need an object of the same restore.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/core/types.js';
import { type InPlan, plannedDependency } from '../../src/restore/dry-run.js';

const RBAC = 'rbac.authorization.k8s.io';
const obj = (fields: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'X',
  metadata: { name: 'x', namespace: 'shop-copy' },
  ...fields,
});
const plan = (...keys: string[]): InPlan => {
  const set = new Set(keys);
  return (resource, ns, name) => set.has(`${resource}/${ns ?? ''}/${name}`);
};

describe('a server dry run of objects that need others of the same restore', () => {
  it('a RoleBinding whose Role the restore creates in the same namespace is not validated', () => {
    const binding = obj({ roleRef: { apiGroup: RBAC, kind: 'Role', name: 'reader' } });
    expect(
      plannedDependency(
        `rolebindings.${RBAC}`,
        'shop-copy',
        binding,
        plan(`roles.${RBAC}/shop-copy/reader`),
      ),
    ).toBe('its Role reader is created by this restore, which a dry run does not persist');
  });

  it('a RoleBinding to a Role the restore does not create (it exists, or is missing) is validated', () => {
    const binding = obj({ roleRef: { apiGroup: RBAC, kind: 'Role', name: 'reader' } });
    expect(
      plannedDependency(
        `rolebindings.${RBAC}`,
        'shop-copy',
        binding,
        plan(`roles.${RBAC}/other/reader`),
      ),
    ).toBeUndefined();
  });

  it('a binding to a ClusterRole of the restore is not validated', () => {
    const binding = obj({ roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'operator' } });
    expect(
      plannedDependency(
        `clusterrolebindings.${RBAC}`,
        undefined,
        binding,
        plan(`clusterroles.${RBAC}//operator`),
      ),
    ).toContain('its ClusterRole operator is created by this restore');
  });

  it('a custom resource whose CRD the restore creates is not validated', () => {
    expect(
      plannedDependency(
        'kafkas.kafka.strimzi.io',
        'shop-copy',
        obj({}),
        plan('customresourcedefinitions.apiextensions.k8s.io//kafkas.kafka.strimzi.io'),
      ),
    ).toBe(
      'its CustomResourceDefinition kafkas.kafka.strimzi.io is created by this restore, which a dry run does not persist',
    );
  });

  it('a Pod whose ServiceAccount the restore creates is not validated; a ConfigMap needs nothing', () => {
    const pod = obj({ spec: { serviceAccountName: 'app' } });
    expect(
      plannedDependency('pods', 'shop-copy', pod, plan('serviceaccounts/shop-copy/app')),
    ).toContain('ServiceAccount app');
    expect(
      plannedDependency('configmaps', 'shop-copy', obj({}), plan('serviceaccounts/shop-copy/app')),
    ).toBeUndefined();
  });
});
