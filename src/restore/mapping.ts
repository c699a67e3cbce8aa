// --namespace-mapping OLD=NEW: restore the objects of namespace OLD into NEW. Only fields that
// name a namespace are rewritten; strings inside specs or data are never touched.

import { UserError } from '../core/errors.js';
import { cloneJson } from '../core/json.js';
import { isDns1123Label } from '../core/names.js';
import type { KubeObject } from '../core/types.js';
import { asArray, asRecord, isKind } from './sanitize.js';

const MAPPING_HINT =
  'write --namespace-mapping OLD=NEW with namespace names, e.g. --namespace-mapping prod=staging';

/**
 * Parses `OLD=NEW` pairs into a map OLD → NEW. Repeating a pair is harmless; mapping one
 * namespace to two targets, or two namespaces to one target (their objects would collide),
 * is a UserError.
 */
export function parseNamespaceMappings(specs: readonly string[]): Map<string, string> {
  const mapping = new Map<string, string>();
  const sources = new Map<string, string>(); // NEW → OLD
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const from = eq < 0 ? '' : spec.slice(0, eq).trim();
    const to = eq < 0 ? '' : spec.slice(eq + 1).trim();
    if (from === '' || to === '') {
      throw new UserError(`invalid namespace mapping "${spec}": expected OLD=NEW`, MAPPING_HINT);
    }
    for (const ns of [from, to]) {
      if (!isDns1123Label(ns)) {
        throw new UserError(
          `invalid namespace mapping "${spec}": "${ns}" is not a valid namespace name`,
          'namespace names are DNS-1123 labels: at most 63 lowercase letters, digits and -',
        );
      }
    }
    const previous = mapping.get(from);
    if (previous !== undefined && previous !== to) {
      throw new UserError(
        `namespace "${from}" is mapped twice: to "${previous}" and to "${to}"`,
        'map each namespace once; restore twice to copy one namespace into two',
      );
    }
    const otherSource = sources.get(to);
    if (otherSource !== undefined && otherSource !== from) {
      throw new UserError(
        `namespaces "${otherSource}" and "${from}" are both mapped to "${to}"`,
        'map each namespace to a namespace of its own, or objects with the same name would collide',
      );
    }
    mapping.set(from, to);
    sources.set(to, from);
  }
  return mapping;
}

/**
 * Checks a mapping against the namespaces a restore contains: a target that is also a restored
 * namespace which is not mapped away would receive two namespaces' objects.
 */
export function checkMappingTargets(
  mapping: ReadonlyMap<string, string>,
  namespaces: Iterable<string>,
): void {
  const restored = new Set(namespaces);
  for (const [from, to] of mapping) {
    if (from !== to && restored.has(to) && !mapping.has(to)) {
      throw new UserError(
        `namespace "${from}" is mapped to "${to}", which this snapshot also restores`,
        `map "${to}" elsewhere too, or exclude it from the restore`,
      );
    }
  }
}

/**
 * Returns `obj` with namespace references rewritten by `mapping`; `obj` itself is not
 * modified. Rewritten: metadata.namespace; a Namespace's own name (and its
 * kubernetes.io/metadata.name label, which mirrors the name); ServiceAccount subjects of
 * RoleBindings and ClusterRoleBindings (also in their user/group name forms); a
 * PersistentVolume's claimRef.namespace.
 */
export function applyNamespaceMapping(
  obj: KubeObject,
  mapping: ReadonlyMap<string, string>,
): KubeObject {
  return applyNamespaceMappingInPlace(cloneJson(obj), mapping);
}

/** `applyNamespaceMapping` for an object the caller owns: changed and returned, not copied. */
export function applyNamespaceMappingInPlace(
  out: KubeObject,
  mapping: ReadonlyMap<string, string>,
): KubeObject {
  const mapped = (ns: unknown): string | undefined =>
    typeof ns === 'string' ? mapping.get(ns) : undefined;

  const ns = mapped(out.metadata.namespace);
  if (ns !== undefined) out.metadata.namespace = ns;

  if (isKind(out, '', 'Namespace')) {
    const name = mapped(out.metadata.name);
    if (name !== undefined) {
      out.metadata.name = name;
      // The server sets this label to the name on every write; keep it consistent.
      const labels = out.metadata.labels;
      if (labels?.['kubernetes.io/metadata.name'] !== undefined)
        labels['kubernetes.io/metadata.name'] = name;
    }
  } else if (
    isKind(out, 'rbac.authorization.k8s.io', 'RoleBinding') ||
    isKind(out, 'rbac.authorization.k8s.io', 'ClusterRoleBinding')
  ) {
    // A binding grants to the ServiceAccount of the namespace it names; restored into NEW, the
    // ServiceAccount lives in NEW. (RoleBinding v1 requires a namespace on ServiceAccount subjects.)
    for (const s of asArray(out.subjects)) {
      const subject = asRecord(s);
      if (!subject) continue;
      if (subject.kind === 'ServiceAccount') {
        const to = mapped(subject.namespace);
        if (to !== undefined) subject.namespace = to;
      } else if (typeof subject.name === 'string') {
        const renamed = mapServiceAccountIdentity(subject.kind, subject.name, mapping);
        if (renamed !== undefined) subject.name = renamed;
      }
    }
  } else if (isKind(out, '', 'PersistentVolume')) {
    // Pre-bound to the claim namespace/name: the claim is restored into NEW.
    const claimRef = asRecord(asRecord(out.spec)?.claimRef);
    const to = mapped(claimRef?.namespace);
    if (claimRef && to !== undefined) claimRef.namespace = to;
  }
  return out;
}

/**
 * ServiceAccounts as RBAC users and groups: `system:serviceaccount:NS:NAME` (one account) and
 * `system:serviceaccounts:NS` (all accounts of NS). These name a namespace as surely as a
 * ServiceAccount subject does.
 */
function mapServiceAccountIdentity(
  kind: unknown,
  name: string,
  mapping: ReadonlyMap<string, string>,
): string | undefined {
  if (kind === 'User') {
    const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
    const to = m?.[1] === undefined ? undefined : mapping.get(m[1]);
    return to === undefined ? undefined : `system:serviceaccount:${to}:${m?.[2]}`;
  }
  if (kind === 'Group') {
    const m = /^system:serviceaccounts:([^:]+)$/.exec(name);
    const to = m?.[1] === undefined ? undefined : mapping.get(m[1]);
    return to === undefined ? undefined : `system:serviceaccounts:${to}`;
  }
  return undefined;
}
