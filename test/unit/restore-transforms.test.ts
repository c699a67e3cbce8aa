import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/core/types.js';
import { digest, wantedDigest } from '../../src/restore/digest.js';
import { normalizeInPlace } from '../../src/restore/normalize.js';
import { planRestore } from '../../src/restore/plan.js';
import { buildTransform, type TransformFlags } from '../../src/restore/transforms/build.js';
import { Transform } from '../../src/restore/transforms/index.js';
import { applyJsonPatch } from '../../src/restore/transforms/json-patch.js';
import { mergePatch } from '../../src/restore/transforms/merge-patch.js';
import { parseRules, rulesOfConfigMap } from '../../src/restore/transforms/rules.js';
import { GITOPS_RULE_NAME } from '../../src/restore/transforms/shortcuts.js';
import { strategicMergePatch } from '../../src/restore/transforms/strategic.js';
import {
  archived,
  configMap,
  cronJob,
  deployment,
  pod,
  pv,
  pvc,
  statefulSet,
  wholeSnapshot,
  withLabels,
} from './builders.js';
import { userError } from './user-error.js';

const flags = (extra: Partial<TransformFlags> = {}): TransformFlags => ({
  rules: [],
  storageClassMapping: [],
  imageRegistryMapping: [],
  replicasToZero: false,
  keepGitOpsTracking: false,
  mapping: new Map(),
  ...extra,
});

/** Applies a rules file to an object as restored from `resource` in its own namespace. */
function transformed(rulesYaml: string, obj: KubeObject, resource: string): KubeObject {
  const t = new Transform(parseRules(rulesYaml, 'rules.yaml'), []);
  return t.apply(structuredClone(obj), { resource, namespace: obj.metadata.namespace });
}

type Spec = { replicas?: number; template: { spec: { containers: Record<string, unknown>[] } } };
const specOf = (o: KubeObject) => o.spec as Spec;

describe("Velero's documented resource-modifier examples", () => {
  it('sets the replicas of the Deployments a rule selects with a JSON patch', () => {
    const rules = `
version: v1
resourceModifierRules:
- conditions:
    groupResource: deployments.apps
    resourceNameRegex: "^test-.*$"
    namespaces: [bar, foo]
  patches:
  - operation: replace
    path: "/spec/replicas"
    value: "3"
`;
    expect(
      specOf(transformed(rules, deployment('test-web', 'bar'), 'deployments.apps')).replicas,
    ).toBe(3);
    // Another name, another namespace: not selected.
    expect(specOf(transformed(rules, deployment('web', 'bar'), 'deployments.apps')).replicas).toBe(
      1,
    );
    expect(
      specOf(transformed(rules, deployment('test-web', 'qux'), 'deployments.apps')).replicas,
    ).toBe(1);
  });

  it("replaces a container's image by its position", () => {
    const rules = `
version: v1
resourceModifierRules:
- conditions: {groupResource: deployments.apps}
  patches:
  - {operation: replace, path: /spec/template/spec/containers/0/image, value: "nginx:1.28"}
`;
    const out = transformed(rules, deployment('web', 'shop'), 'deployments.apps');
    expect(specOf(out).template.spec.containers[0]?.image).toBe('nginx:1.28');
  });

  it('merges labels in and removes one with null in a JSON merge patch', () => {
    const rules = `
version: v1
resourceModifierRules:
- conditions: {groupResource: configmaps, namespaces: ["*"]}
  mergePatches:
  - patchData: |
      {"metadata": {"labels": {"env": "staging", "old": null}}}
`;
    const cm = withLabels(configMap('settings', 'shop', { a: '1' }), { old: 'x', app: 'shop' });
    expect(transformed(rules, cm, 'configmaps').metadata.labels).toEqual({
      app: 'shop',
      env: 'staging',
    });
  });

  it('patches one container by name with a strategic merge patch, keeping the others', () => {
    const rules = `
version: v1
resourceModifierRules:
- conditions: {groupResource: pods, resourceNameRegex: "^my-pod$"}
  strategicPatches:
  - patchData: |
      spec:
        containers:
        - name: app
          image: repo2/nginx
`;
    const p = pod('my-pod', 'shop', {
      containers: [
        { name: 'sidecar', image: 'envoy:1' },
        { name: 'app', image: 'repo1/nginx', ports: [{ containerPort: 80 }] },
      ],
    });
    const containers = (transformed(rules, p, 'pods').spec as Spec['template']['spec']).containers;
    expect(containers).toEqual([
      { name: 'sidecar', image: 'envoy:1' },
      { name: 'app', image: 'repo2/nginx', ports: [{ containerPort: 80 }] },
    ]);
  });

  it('applies a patch only when its test operation holds', () => {
    const rules = `
version: v1
resourceModifierRules:
- conditions: {groupResource: persistentvolumeclaims}
  patches:
  - {operation: test, path: /spec/storageClassName, value: premium}
  - {operation: replace, path: /spec/storageClassName, value: standard}
`;
    const premium = pvc('data', 'shop', { storageClassName: 'premium' });
    const other = pvc('data', 'shop', { storageClassName: 'slow' });
    expect(
      (transformed(rules, premium, 'persistentvolumeclaims').spec as Record<string, unknown>)
        .storageClassName,
    ).toBe('standard');
    expect(
      (transformed(rules, other, 'persistentvolumeclaims').spec as Record<string, unknown>)
        .storageClassName,
    ).toBe('slow');
  });
});

describe('rules file validation', () => {
  const rule = (body: string) => `version: v1\nresourceModifierRules:\n- ${body}`;

  it.each([
    [
      'an unknown field',
      rule(
        'conditions: {groupResource: pods, nmespaces: [a]}\n  patches: [{operation: remove, path: /a}]',
      ),
      'unknown field "nmespaces"',
    ],
    [
      'a regex that does not compile',
      rule(
        'conditions: {groupResource: pods, resourceNameRegex: "(["}\n  patches: [{operation: remove, path: /a}]',
      ),
      'does not compile',
    ],
    [
      'an unsupported operation',
      rule('conditions: {groupResource: pods}\n  patches: [{operation: delete, path: /a}]'),
      'unsupported operation',
    ],
    [
      'a path that is not a JSON pointer',
      rule('conditions: {groupResource: pods}\n  patches: [{operation: remove, path: spec/a}]'),
      'must start with /',
    ],
    [
      'two kinds of patches in one rule',
      rule(
        'conditions: {groupResource: pods}\n  patches: [{operation: remove, path: /a}]\n  mergePatches: [{patchData: "{}"}]',
      ),
      'exactly one of',
    ],
    [
      'no groupResource',
      rule('conditions: {}\n  patches: [{operation: remove, path: /a}]'),
      'cannot be empty',
    ],
    ['another version', 'version: v2\nresourceModifierRules: []', 'unsupported version'],
    [
      'patch data that is not YAML',
      rule('conditions: {groupResource: pods}\n  mergePatches: [{patchData: "{a: [}"}]'),
      'is not YAML',
    ],
  ])('refuses %s', (_what, text, message) => {
    expect(userError(() => parseRules(text, 'rules.yaml')).message).toContain(message);
  });

  it('reads the one rules document of a Velero ConfigMap, and refuses two', () => {
    const doc =
      'version: v1\nresourceModifierRules:\n- conditions: {groupResource: pods}\n  patches: [{operation: remove, path: /a}]';
    expect(rulesOfConfigMap({ 'rules.yaml': doc }, 'configmap:velero/m')).toHaveLength(1);
    expect(
      userError(() => rulesOfConfigMap({ a: doc, b: doc }, 'configmap:velero/m')).message,
    ).toContain('exactly one data key');
  });

  it('names the rule and the object when a patch path does not exist', () => {
    const rules =
      'version: v1\nresourceModifierRules:\n- conditions: {groupResource: configmaps}\n  patches: [{operation: replace, path: /spec/replicas, value: "1"}]';
    const err = userError(() =>
      transformed(rules, configMap('settings', 'shop', {}), 'configmaps'),
    );
    expect(err.message).toContain(
      'resourceModifierRules[0] cannot be applied to configmaps/settings in shop',
    );
  });

  it('matches groupResource with wildcards within a segment', () => {
    const rules =
      'version: v1\nresourceModifierRules:\n- conditions: {groupResource: "*.apps"}\n  patches: [{operation: replace, path: /spec/replicas, value: "2"}]';
    expect(specOf(transformed(rules, deployment('web', 'shop'), 'deployments.apps')).replicas).toBe(
      2,
    );
    const cm = transformed(
      rules.replace('/spec/replicas', '/data/a'),
      configMap('c', 'shop', { a: '1' }),
      'configmaps',
    );
    expect(cm.data).toEqual({ a: '1' });
  });
});

describe('patch engines', () => {
  it('applies RFC 6902 add, move and copy, all or nothing', () => {
    const doc: Record<string, unknown> = { a: [1, 2], b: { c: 1 } };
    expect(
      applyJsonPatch(doc, [
        { op: 'add', path: '/a/-', value: 3 },
        { op: 'copy', from: '/b', path: '/d' },
        { op: 'move', from: '/b/c', path: '/e' },
      ]),
    ).toBe(true);
    expect(doc).toEqual({ a: [1, 2, 3], b: {}, d: { c: 1 }, e: 1 });
    const before = structuredClone(doc);
    expect(() =>
      applyJsonPatch(doc, [
        { op: 'remove', path: '/a/0' },
        { op: 'remove', path: '/zz' },
      ]),
    ).toThrow('does not exist');
    expect(doc).toEqual(before);
  });

  it('replaces arrays in an RFC 7386 merge patch', () => {
    expect(mergePatch({ a: [1, 2], b: 1 }, { a: [3], c: null })).toEqual({ a: [3], b: 1 });
  });

  it('merges env by name and deletes a volume with $patch: delete in a strategic patch', () => {
    const d = deployment('web', 'shop');
    const spec = specOf(d).template.spec as Record<string, unknown>;
    spec.containers = [
      {
        name: 'app',
        image: 'a',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
      },
    ];
    spec.volumes = [
      { name: 'cache', emptyDir: {} },
      { name: 'data', emptyDir: {} },
    ];
    const out = strategicMergePatch('Deployment', d as never, {
      spec: {
        template: {
          spec: {
            containers: [{ name: 'app', env: [{ name: 'B', value: '3' }] }],
            volumes: [{ name: 'cache', $patch: 'delete' }],
          },
        },
      },
    }) as unknown as KubeObject;
    const s = specOf(out).template.spec as Record<string, unknown>;
    expect(s.containers).toEqual([
      {
        name: 'app',
        image: 'a',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '3' },
        ],
      },
    ]);
    expect(s.volumes).toEqual([{ name: 'data', emptyDir: {} }]);
  });
});

describe('shortcut flags', () => {
  const apply = (
    t: Transform | undefined,
    o: KubeObject,
    resource: string,
    ns = o.metadata.namespace,
  ) => (t as Transform).apply(structuredClone(o), { resource, namespace: ns });

  it('maps storage classes of claims, volumes and volumeClaimTemplates', () => {
    const t = buildTransform(flags({ storageClassMapping: ['standard=fast'] }));
    expect(
      (apply(t, pvc('d', 'shop'), 'persistentvolumeclaims').spec as Record<string, unknown>)
        .storageClassName,
    ).toBe('fast');
    expect(
      (
        apply(t, pv('v', { storageClassName: 'standard' }), 'persistentvolumes').spec as Record<
          string,
          unknown
        >
      ).storageClassName,
    ).toBe('fast');
    const sts = statefulSet('db', 'shop');
    (sts.spec as Record<string, unknown>).volumeClaimTemplates = [
      { metadata: { name: 'data' }, spec: { storageClassName: 'standard' } },
    ];
    const out = apply(t, sts, 'statefulsets.apps').spec as {
      volumeClaimTemplates: { spec: { storageClassName: string } }[];
    };
    expect(out.volumeClaimTemplates[0]?.spec.storageClassName).toBe('fast');
  });

  it('maps the registry of every container, init and ephemeral included, and of CronJob templates', () => {
    const t = buildTransform(flags({ imageRegistryMapping: ['docker.io=mirror.local'] }));
    const p = pod('p', 'shop', {
      containers: [
        { name: 'a', image: 'docker.io/library/nginx:1' },
        { name: 'b', image: 'docker.io.evil/x' },
      ],
      initContainers: [{ name: 'i', image: 'docker.io/busybox' }],
      ephemeralContainers: [{ name: 'e', image: 'docker.io/debug' }],
    });
    const s = apply(t, p, 'pods').spec as Record<string, { image: string }[]>;
    expect(s.containers?.map((c) => c.image)).toEqual([
      'mirror.local/library/nginx:1',
      'docker.io.evil/x',
    ]);
    expect(s.initContainers?.[0]?.image).toBe('mirror.local/busybox');
    expect(s.ephemeralContainers?.[0]?.image).toBe('mirror.local/debug');
    const cj = cronJob('nightly', 'shop');
    const spec = (
      cj.spec as {
        jobTemplate: { spec: { template: { spec: { containers: { image: string }[] } } } };
      }
    ).jobTemplate.spec.template.spec;
    spec.containers = [{ image: 'docker.io/job' } as never];
    const outCj = apply(t, cj, 'cronjobs.batch').spec as typeof cj.spec & {
      jobTemplate: { spec: { template: { spec: { containers: { image: string }[] } } } };
    };
    expect(outCj.jobTemplate.spec.template.spec.containers[0]?.image).toBe('mirror.local/job');
  });

  it('scales Deployments and StatefulSets to zero and records the rule', () => {
    const t = buildTransform(flags({ replicasToZero: true })) as Transform;
    expect(specOf(apply(t, deployment('web', 'shop'), 'deployments.apps')).replicas).toBe(0);
    expect(t.changedBy('deployments.apps', 'shop', 'web')).toEqual(['--replicas-to-zero']);
    apply(t, configMap('c', 'shop', {}), 'configmaps');
    expect(t.changedBy('configmaps', 'shop', 'c')).toEqual([]);
  });

  it('removes Argo CD and Flux tracking metadata from clones only, unless kept', () => {
    const tracked = () => {
      const d = deployment(
        'web',
        'shop-copy',
        {},
        {
          labels: {
            app: 'web',
            'argocd.argoproj.io/instance': 'shop',
            'kustomize.toolkit.fluxcd.io/name': 'apps',
          },
          annotations: {
            'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:shop/web',
            'helm.toolkit.fluxcd.io/name': 'web',
            keep: 'me',
          },
        },
      );
      return d;
    };
    const mapping = new Map([['shop', 'shop-copy']]);
    const t = buildTransform(flags({ mapping })) as Transform;
    const clone = apply(t, tracked(), 'deployments.apps', 'shop');
    expect(clone.metadata.labels).toEqual({ app: 'web' });
    expect(clone.metadata.annotations).toEqual({ keep: 'me' });
    expect(t.changedBy('deployments.apps', 'shop-copy', 'web')).toEqual([GITOPS_RULE_NAME]);
    // In place (a namespace not mapped): kept.
    expect(apply(t, tracked(), 'deployments.apps', 'other').metadata.labels).toEqual(
      tracked().metadata.labels,
    );
    expect(buildTransform(flags({ mapping, keepGitOpsTracking: true }))).toBeUndefined();
    // A copy left with no label at all has no labels map (the server stores none).
    const bare = withLabels(configMap('c', 'shop', {}), { 'argocd.argoproj.io/instance': 'shop' });
    expect(apply(t, bare, 'configmaps', 'shop').metadata).not.toHaveProperty('labels');
  });
});

describe('transforms in the plan', () => {
  const rules = parseRules(
    'version: v1\nresourceModifierRules:\n- conditions: {groupResource: configmaps, namespaces: [shop]}\n  mergePatches: [{patchData: "{data: {mode: safe}}"}]',
    'rules.yaml',
  );
  const mapping = new Map([['shop', 'shop-copy']]);

  it('materializes the transformed object, and the load digests exactly it', async () => {
    const objects = [configMap('settings', 'shop', { mode: 'fast' }), deployment('web', 'shop')];
    const transform = buildTransform(flags({ rules, mapping, replicasToZero: true })) as Transform;
    const plan = planRestore(
      objects.map(archived),
      wholeSnapshot({ mapping, includeClusterResources: 'false', transform }),
    );
    const planned = plan.tiers.flat();
    expect(planned).toHaveLength(2);
    for (const p of planned) {
      const source = objects.find((o) => o.kind === p.kind) as KubeObject;
      const sent = await p.materialize();
      const context = { resource: p.resource, namespace: 'shop' };
      const loadDigest = wantedDigest(structuredClone(source), mapping, {
        transform,
        context,
        preserveNodePorts: false,
      });
      expect(loadDigest, p.name).toBe(digest(normalizeInPlace(sent)));
      expect(loadDigest).not.toBe(wantedDigest(structuredClone(source), mapping));
    }
    const cm = await planned.find((p) => p.kind === 'ConfigMap')?.materialize();
    expect(cm?.data).toEqual({ mode: 'safe' });
  });
});
