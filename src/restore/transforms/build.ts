// The restore's transform from its flags: the rules of --resource-modifiers first (in file
// order), then the shortcuts, then the GitOps tracking removal of namespace clones.
import { UserError } from '../../core/errors.js';
import { Transform } from './index.js';
import type { Rule } from './rules.js';
import {
  type CodeRule,
  gitOpsTrackingRule,
  imageRegistryRule,
  parsePairs,
  replicasToZeroRule,
  storageClassRule,
} from './shortcuts.js';

export interface TransformFlags {
  rules: readonly Rule[];
  storageClassMapping: readonly string[];
  imageRegistryMapping: readonly string[];
  replicasToZero: boolean;
  keepGitOpsTracking: boolean;
  mapping: ReadonlyMap<string, string>;
}

export function buildTransform(f: TransformFlags): Transform | undefined {
  const code: CodeRule[] = [];
  const classes = parsePairs(f.storageClassMapping, '--storage-class-mapping', 'standard=fast-ssd');
  if (classes.size > 0) code.push(storageClassRule(classes));
  const registries = parsePairs(
    f.imageRegistryMapping,
    '--image-registry-mapping',
    'docker.io=mirror.example.com',
  );
  for (const [from, to] of registries)
    if (from.endsWith('/') || to.endsWith('/'))
      throw new UserError(
        `--image-registry-mapping ${from}=${to}: write registries without a trailing /`,
      );
  if (registries.size > 0) code.push(imageRegistryRule(registries));
  if (f.replicasToZero) code.push(replicasToZeroRule);
  if (f.mapping.size > 0 && !f.keepGitOpsTracking) code.push(gitOpsTrackingRule(f.mapping));
  const t = new Transform(f.rules, code);
  return t.empty ? undefined : t;
}

/** `configmap:NS/NAME`, else undefined (a file path). */
export function configMapRef(spec: string): { namespace: string; name: string } | undefined {
  if (!spec.startsWith('configmap:')) return undefined;
  const [namespace, name, ...rest] = spec.slice('configmap:'.length).split('/');
  if (!namespace || !name || rest.length > 0)
    throw new UserError(
      `--resource-modifiers ${spec}: expected configmap:NAMESPACE/NAME`,
      'e.g. --resource-modifiers configmap:velero/my-modifiers',
    );
  return { namespace, name };
}
