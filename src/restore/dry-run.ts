// Under --dry-run=server nothing persists: an object that needs another object created by the
// same restore cannot be validated, because the server looks for one that was never made. Such
// an object is "not validated" with the reason, never "failed". Pure.
import { isCustomResource } from '../core/resources.js';
import type { KubeObject } from '../core/types.js';

const RBAC = 'rbac.authorization.k8s.io';

/** Whether the plan creates an object: qualified resource, target namespace (or none), name. */
export type InPlan = (resource: string, namespace: string | undefined, name: string) => boolean;

/**
 * The object of the same restore that `obj` (of qualified `resource`, in target namespace
 * `namespace`) needs to exist for the server to accept it, worded for the report; undefined
 * when it needs none the plan creates.
 */
export function plannedDependency(
  resource: string,
  namespace: string | undefined,
  obj: KubeObject,
  inPlan: InPlan,
): string | undefined {
  // A custom resource's type is served only once its CRD exists.
  if (
    isCustomResource(resource) &&
    inPlan(`customresourcedefinitions.apiextensions.k8s.io`, undefined, resource)
  )
    return `its CustomResourceDefinition ${resource} is created by this restore, which a dry run does not persist`;
  // RBAC checks a binding against the rights its role grants (escalation check): the role
  // must exist.
  if (resource === `rolebindings.${RBAC}` || resource === `clusterrolebindings.${RBAC}`) {
    const ref = obj.roleRef as { kind?: string; name?: string } | undefined;
    if (ref?.kind === 'Role' && ref.name && inPlan(`roles.${RBAC}`, namespace, ref.name))
      return `its Role ${ref.name} is created by this restore, which a dry run does not persist`;
    if (
      ref?.kind === 'ClusterRole' &&
      ref.name &&
      inPlan(`clusterroles.${RBAC}`, undefined, ref.name)
    )
      return `its ClusterRole ${ref.name} is created by this restore, which a dry run does not persist`;
  }
  // The ServiceAccount admission plugin refuses a Pod whose ServiceAccount does not exist.
  if (resource === 'pods') {
    const sa = (obj.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName;
    if (sa && inPlan('serviceaccounts', namespace, sa))
      return `its ServiceAccount ${sa} is created by this restore, which a dry run does not persist`;
  }
  return undefined;
}
