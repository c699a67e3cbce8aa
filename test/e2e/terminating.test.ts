// Objects being deleted when a restore runs (restore/terminating.ts): a CRD held by the
// finalizer of one of its custom resources, a namespace held by the finalizer of an object in
// it. They still answer GET; a restore that counted them as existing would report them
// restored and leave the cluster without them seconds later. Checked with kubectl.
import { beforeAll, describe, expect, it } from 'vitest';
import { configMap, crd, create, customResource, namespace, waitEstablished } from './fixtures.js';
import { cliOnCue, kubectl, uniqueName, until } from './helpers.js';
import { directoryStorage, type StorageKind } from './storage-kinds.js';

interface Report {
  totals: Record<string, number>;
  results: {
    resource: string;
    namespace?: string;
    name: string;
    outcome: string;
    message?: string;
  }[];
}

const CRDS = 'customresourcedefinitions.apiextensions.k8s.io';
const HOLD = 'example.com/hold';

const parse = (r: { code: number; stdout: string; stderr: string }): Report => {
  try {
    return JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`exited ${r.code} with no report: ${r.stderr}`);
  }
};
const resultOf = (r: Report, resource: string, name: string) =>
  r.results.find((x) => x.resource === resource && x.name === name);

/** Whether kubectl sees the object with a deletionTimestamp. */
const beingDeleted = (...target: string[]) => {
  try {
    return kubectl('get', ...target, '-o', 'jsonpath={.metadata.deletionTimestamp}').trim() !== '';
  } catch {
    return false;
  }
};
const removeFinalizers = (...target: string[]) =>
  kubectl('patch', ...target, '--type', 'merge', '-p', '{"metadata":{"finalizers":null}}');

describe('a restore while its CRD is being deleted, held by a custom resource’s finalizer', () => {
  const ns = uniqueName('term-crd');
  const group = `${uniqueName('g')}.example.com`;
  const crdName = `widgets.${group}`;
  const snap = uniqueName('term-crd');
  let storage: StorageKind;

  beforeAll(async () => {
    storage = directoryStorage();
    await create([namespace(ns), crd(group, 'Widget', 'widgets')]);
    await waitEstablished(crdName);
    await create([configMap(ns, 'settings')]);
    await until(`${crdName} served`, async () => {
      try {
        await create([customResource(group, 'Widget', ns, 'w1', { size: 3 })]);
        return true;
      } catch {
        return undefined;
      }
    });
    const b = await storage.cli(['backup', snap, '-n', ns]);
    expect(b.code, b.stderr).toBe(0);
    // The disaster in progress: the CRD is deleted, its custom resource holds it.
    kubectl(
      'patch',
      crdName,
      '-n',
      ns,
      'w1',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ metadata: { finalizers: [HOLD] } }),
    );
    kubectl('delete', 'crd', crdName, '--wait=false');
    await until('the CRD and its custom resource to be Terminating', async () =>
      beingDeleted('crd', crdName) && beingDeleted(crdName, '-n', ns, 'w1') ? true : undefined,
    );
  });

  it('a server dry run and diff say the CRD and its custom resource are being deleted, not that they exist', async () => {
    for (const args of [
      ['restore', snap, '--dry-run=server'],
      ['diff', snap],
    ]) {
      const r = await storage.cli([...args, '-o', 'json']);
      expect(r.code, r.stderr).toBe(0);
      const report = parse(r);
      expect(resultOf(report, CRDS, crdName)).toMatchObject({
        outcome: 'not-validated',
        message: expect.stringContaining(
          'being deleted (held by finalizer(s) customresourcecleanup.apiextensions.k8s.io)',
        ),
      });
      expect(resultOf(report, crdName, 'w1')).toMatchObject({
        outcome: 'not-validated',
        message: `its CRD ${crdName} is being deleted, and with it every widgets; a real restore waits for the CRD, then creates both`,
      });
      expect(resultOf(report, 'configmaps', 'settings')?.outcome).toBe('exists-identical');
    }
  });

  it('fails the CRD with the finalizer that holds it when --wait-terminating runs out: exit 2, nothing changed', async () => {
    const r = await storage.cli(['restore', snap, '--wait-terminating', '2s', '-o', 'json']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      `waiting for ${CRDS}/${crdName} to be deleted (held by finalizer(s) customresourcecleanup.apiextensions.k8s.io)`,
    );
    const report = parse(r);
    expect(resultOf(report, CRDS, crdName)).toMatchObject({
      outcome: 'failed',
      message:
        'still being deleted after 2s (--wait-terminating): held by finalizer(s) customresourcecleanup.apiextensions.k8s.io',
    });
    expect(resultOf(report, crdName, 'w1')).toMatchObject({
      outcome: 'failed',
      message: `its CRD ${crdName} was not restored (see its result)`,
    });
    expect(beingDeleted('crd', crdName)).toBe(true);
  });

  it('waits until the CRD is gone, then creates it and its custom resource: exit 0', async () => {
    const r = await cliOnCue(
      ['restore', snap, '-o', 'json', ...storage.args],
      storage.env,
      /waiting for customresourcedefinitions\S+ to be deleted/,
      // The operator lets go of its custom resource while the restore waits.
      async () => void removeFinalizers(crdName, '-n', ns, 'w1'),
    );
    expect(r.cued, r.stderr).toBe(true);
    expect(r.code, r.stderr).toBe(0);
    const report = parse(r);
    expect(resultOf(report, CRDS, crdName)?.outcome).toBe('created');
    expect(resultOf(report, crdName, 'w1')?.outcome).toBe('created');
    expect(
      kubectl(
        'get',
        crdName,
        '-n',
        ns,
        'w1',
        '-o',
        'jsonpath={.spec.size} {.metadata.deletionTimestamp}',
      ),
    ).toBe('3 ');
  });
});

describe('a restore while its namespace is Terminating, held by an object’s finalizer', () => {
  const ns = uniqueName('term-ns');
  const snap = uniqueName('term-ns');
  let storage: StorageKind;

  beforeAll(async () => {
    storage = directoryStorage();
    await create([
      namespace(ns, { team: 'shop' }),
      configMap(ns, 'settings'),
      configMap(ns, 'held'),
    ]);
    const b = await storage.cli(['backup', snap, '-n', ns]);
    expect(b.code, b.stderr).toBe(0);
    kubectl(
      'patch',
      'configmap',
      'held',
      '-n',
      ns,
      '--type',
      'merge',
      '-p',
      JSON.stringify({ metadata: { finalizers: [HOLD] } }),
    );
    kubectl('delete', 'namespace', ns, '--wait=false');
    await until(`namespace ${ns} to report the finalizer that holds it`, async () =>
      kubectl(
        'get',
        'namespace',
        ns,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="NamespaceFinalizersRemaining")].status}',
      ).trim() === 'True'
        ? true
        : undefined,
    );
  });

  it('fails the namespace naming what remains in it, and tries nothing inside it: exit 2', async () => {
    const r = await storage.cli(['restore', snap, '--wait-terminating', '1s', '-o', 'json']);
    expect(r.code, r.stderr).toBe(2);
    const report = parse(r);
    expect(resultOf(report, 'namespaces', ns)).toMatchObject({
      outcome: 'failed',
      message: expect.stringMatching(
        new RegExp(
          `^still being deleted after 1s \\(--wait-terminating\\): held by finalizer\\(s\\) kubernetes; .*${HOLD.replace('.', '\\.')}`,
        ),
      ),
    });
    expect(resultOf(report, 'configmaps', 'settings')).toMatchObject({
      outcome: 'failed',
      message: `its namespace ${ns} was not restored (see its result)`,
    });
  });

  it('waits until the namespace is gone, then restores it with its labels and objects: exit 0', async () => {
    const r = await cliOnCue(
      ['restore', snap, '-o', 'json', ...storage.args],
      storage.env,
      new RegExp(`waiting for namespace ${ns} to be deleted`),
      async () => void removeFinalizers('configmap', 'held', '-n', ns),
    );
    expect(r.cued, r.stderr).toBe(true);
    expect(r.code, r.stderr).toBe(0);
    const report = parse(r);
    expect(resultOf(report, 'namespaces', ns)?.outcome).toBe('created');
    expect(resultOf(report, 'configmaps', 'held')?.outcome).toBe('created');
    expect(
      kubectl('get', 'namespace', ns, '-o', 'jsonpath={.metadata.labels.team} {.status.phase}'),
    ).toBe('shop Active');
    expect(
      kubectl('get', 'configmap', 'held', '-n', ns, '-o', 'jsonpath={.metadata.finalizers}'),
    ).toBe('');
  });
});
