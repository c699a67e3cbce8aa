import { describe, expect, it } from 'vitest';
import {
  compareResources,
  LAST_TIER,
  REST_TIER,
  restoreTiers,
  tierOf,
} from '../../src/restore/order.js';

const createdBefore = (a: string, b: string) =>
  expect(tierOf(a), `${a} before ${b}`).toBeLessThan(tierOf(b));

describe('restore order', () => {
  it('creates CRDs first, then Namespaces, then everything else', () => {
    expect(tierOf('customresourcedefinitions.apiextensions.k8s.io')).toBe(0);
    expect(tierOf('namespaces')).toBe(1);
    for (const r of ['configmaps', 'deployments.apps', 'widgets.example.com'])
      createdBefore('namespaces', r);
  });

  it('creates PriorityClasses and StorageClasses before what names them', () => {
    createdBefore('priorityclasses.scheduling.k8s.io', 'pods');
    createdBefore('storageclasses.storage.k8s.io', 'persistentvolumeclaims');
  });

  it('creates volumes before their claims and claims before Pods', () => {
    createdBefore('persistentvolumes', 'persistentvolumeclaims');
    createdBefore('persistentvolumeclaims', 'pods');
  });

  it('creates ServiceAccounts before Secrets, whose token Secrets need them', () => {
    createdBefore('serviceaccounts', 'secrets');
  });

  it('creates roles before their bindings, and all RBAC before workloads', () => {
    createdBefore('roles.rbac.authorization.k8s.io', 'rolebindings.rbac.authorization.k8s.io');
    createdBefore(
      'clusterroles.rbac.authorization.k8s.io',
      'clusterrolebindings.rbac.authorization.k8s.io',
    );
    for (const w of ['deployments.apps', 'statefulsets.apps', 'jobs.batch', 'pods']) {
      createdBefore('rolebindings.rbac.authorization.k8s.io', w);
      createdBefore('clusterrolebindings.rbac.authorization.k8s.io', w);
      createdBefore('serviceaccounts', w);
    }
  });

  it('creates Secrets, ConfigMaps, quotas and limit ranges before workloads', () => {
    for (const r of ['secrets', 'configmaps', 'resourcequotas', 'limitranges'])
      createdBefore(r, 'deployments.apps');
  });

  it('creates Services before workloads and Ingresses after them', () => {
    createdBefore('services', 'deployments.apps');
    createdBefore('deployments.apps', 'ingresses.networking.k8s.io');
  });

  it('puts all workload kinds in one tier, created in parallel', () => {
    const t = tierOf('deployments.apps');
    for (const r of [
      'statefulsets.apps',
      'daemonsets.apps',
      'replicasets.apps',
      'cronjobs.batch',
      'jobs.batch',
      'pods',
    ]) {
      expect(tierOf(r)).toBe(t);
    }
  });

  it('puts unlisted resources, custom ones included, in the rest tier after the listed ones', () => {
    expect(tierOf('widgets.example.com')).toBe(REST_TIER);
    expect(tierOf('endpoints')).toBe(REST_TIER);
    createdBefore('horizontalpodautoscalers.autoscaling', 'widgets.example.com');
  });

  it('creates webhooks and API services last, so they cannot block the other creates', () => {
    for (const r of [
      'validatingwebhookconfigurations.admissionregistration.k8s.io',
      'apiservices.apiregistration.k8s.io',
    ]) {
      expect(tierOf(r)).toBe(LAST_TIER);
      createdBefore('widgets.example.com', r);
    }
  });

  it('sorts by tier, then alphabetically', () => {
    const sorted = [
      'widgets.example.com',
      'pods',
      'configmaps',
      'namespaces',
      'apples.example.com',
      'secrets',
    ].sort(compareResources);
    expect(sorted).toEqual([
      'namespaces',
      'configmaps',
      'secrets',
      'pods',
      'apples.example.com',
      'widgets.example.com',
    ]);
  });

  it('groups resources into tiers in restore order', () => {
    expect(
      restoreTiers(['pods', 'secrets', 'configmaps', 'gadgets.example.com', 'namespaces', 'pods']),
    ).toEqual([['namespaces'], ['configmaps', 'secrets'], ['pods'], ['gadgets.example.com']]);
    expect(restoreTiers([])).toEqual([]);
  });
});
