// The qualified names (`plural.group`) of the types whose rules several modules share: one
// spelling, so a typo cannot make one module miss what another handles.
export const NAMESPACES = 'namespaces';
export const PERSISTENT_VOLUMES = 'persistentvolumes';
export const CRDS = 'customresourcedefinitions.apiextensions.k8s.io';
export const CLUSTER_ROLES = 'clusterroles.rbac.authorization.k8s.io';
export const CLUSTER_ROLE_BINDINGS = 'clusterrolebindings.rbac.authorization.k8s.io';
export const ROLES = 'roles.rbac.authorization.k8s.io';
export const ROLE_BINDINGS = 'rolebindings.rbac.authorization.k8s.io';
