import { describe, expect, it } from 'vitest';
import {
  allows,
  forbiddenAccess,
  includesCustomResources,
  knownUnlistable,
  listAccess,
  type NamespaceRights,
  needsClusterRoleBindings,
} from '../../src/backup/access.js';
import type { ResourceType } from '../../src/core/types.js';

const type = (group: string, resource: string, namespaced = true): ResourceType => ({
  group,
  version: 'v1',
  resource,
  kind: resource,
  namespaced,
});
const secrets = type('', 'secrets');
const podtemplates = type('', 'podtemplates');
const capacities = type('storage.k8s.io', 'csistoragecapacities');
const widgets = type('example.com', 'widgets');
const crbs = type('rbac.authorization.k8s.io', 'clusterrolebindings', false);

const rights = (rules: NamespaceRights['rules'], incomplete = false): NamespaceRights => ({
  rules,
  incomplete,
});
/** Roughly what the built-in admin ClusterRole grants in a namespace. */
const admin = rights([
  {
    verbs: ['get', 'list', 'watch', 'create'],
    apiGroups: [''],
    resources: ['secrets', 'configmaps'],
  },
  {
    verbs: ['create'],
    apiGroups: ['authorization.k8s.io'],
    resources: ['selfsubjectrulesreviews'],
  },
]);

describe('allows', () => {
  it('matches verbs, groups and resources, with * wildcards', () => {
    expect(allows(admin.rules, 'list', secrets)).toBe(true);
    expect(allows(admin.rules, 'delete', secrets)).toBe(false);
    expect(allows([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], 'list', widgets)).toBe(
      true,
    );
  });
  it('does not take a rule limited to named objects as a right to list them all', () => {
    const named = [
      { verbs: ['list'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] },
    ];
    expect(allows(named, 'list', secrets)).toBe(false);
  });
});

describe('listAccess', () => {
  it('lists what the rules allow, and everything when the rules are unknown or incomplete', () => {
    expect(listAccess(secrets, admin)).toEqual({ kind: 'list' });
    expect(listAccess(podtemplates, undefined)).toEqual({ kind: 'list' });
    expect(listAccess(secrets, rights([], true))).toEqual({ kind: 'list' });
  });
  it('leaves out types that are not application data, with their reason', () => {
    expect(listAccess(podtemplates, admin).kind).toBe('leave-out');
    expect(listAccess(capacities, admin)).toMatchObject({
      kind: 'leave-out',
      reason: expect.stringContaining('CSI drivers'),
    });
  });
  it('leaves out a custom resource the user has no right at all on', () => {
    expect(listAccess(widgets, admin)).toMatchObject({ kind: 'leave-out' });
  });
  it('calls forbidden a custom resource the user has some right on, and a built-in application type', () => {
    const some = rights([{ verbs: ['get'], apiGroups: ['example.com'], resources: ['widgets'] }]);
    expect(listAccess(widgets, some)).toEqual({ kind: 'forbidden' });
    expect(listAccess(secrets, rights([]))).toEqual({ kind: 'forbidden' });
  });
  it('judges a 403 without reviewed rights by the table alone', () => {
    expect(forbiddenAccess(podtemplates).kind).toBe('leave-out');
    expect(forbiddenAccess(widgets)).toEqual({ kind: 'forbidden' });
    expect(forbiddenAccess(secrets)).toEqual({ kind: 'forbidden' });
  });
});

describe('related cluster objects', () => {
  it('looks up CRDs only when a type that may be a custom resource had objects', () => {
    expect(includesCustomResources(['configmaps', 'deployments.apps'])).toBe(false);
    expect(includesCustomResources(['configmaps', 'widgets.example.com'])).toBe(true);
    expect(includesCustomResources(['httproutes.gateway.networking.k8s.io'])).toBe(true);
  });
  it('looks up ClusterRoleBindings only for ServiceAccounts other than the default ones', () => {
    expect(needsClusterRoleBindings(['a/default', 'b/default'])).toBe(false);
    expect(needsClusterRoleBindings(['a/default', 'a/robot'])).toBe(true);
  });
  it('knows a cluster type is unlistable only from complete reviews that all refuse it', () => {
    expect(knownUnlistable(crbs, [admin, admin])).toBe(true);
    expect(knownUnlistable(crbs, [])).toBe(false);
    expect(knownUnlistable(crbs, [admin, rights([], true)])).toBe(false);
    const wide = rights([{ verbs: ['list'], apiGroups: ['*'], resources: ['*'] }]);
    expect(knownUnlistable(crbs, [wide])).toBe(false);
  });
});
