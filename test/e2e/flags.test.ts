// Restore and diff flags that name what the snapshot does not hold are errors, found from
// snapshot.json before the archive is read or anything is created: a namespace (-n), a
// --namespace-mapping source, a resource type of --include-resources / --exclude-resources that
// neither the snapshot nor the server has. Each used to exit 0 having restored something else.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { configMap, create, namespace, type Obj, secret } from './fixtures.js';
import { cli, objects, tempDir, uniqueName, until } from './helpers.js';

async function exists(o: Obj): Promise<boolean> {
  try {
    await objects().read(o as k8s.KubernetesObject & { metadata: { name: string } });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
}

async function names(apiVersion: string, kind: string, ns: string): Promise<string[]> {
  const list = await objects().list(apiVersion, kind, ns);
  return list.items.map((o) => o.metadata?.name as string).sort();
}

describe('restore and diff refuse flags that match nothing in the snapshot', () => {
  const dir = tempDir('ks-flags-');
  const env = { XDG_DATA_HOME: dir };
  const ns = uniqueName('flags');
  const copy = `${ns}-copy`;
  const passphrase = join(dir, 'passphrase.txt');

  beforeAll(async () => {
    await create([
      namespace(ns),
      configMap(ns, 'settings'),
      secret(ns, 'db-password', { password: 's3cr3t' }),
    ]);
    // What the controllers publish into a new namespace, so the snapshot is stable.
    await until(`kube-root-ca.crt and the default ServiceAccount in ${ns}`, async () => {
      const cms = await names('v1', 'ConfigMap', ns);
      const sas = await names('v1', 'ServiceAccount', ns);
      return cms.includes('kube-root-ca.crt') && sas.includes('default');
    });
    writeFileSync(passphrase, 'correct horse battery staple\n');
    for (const args of [
      ['backup', 'flags', '-n', ns],
      ['backup', 'sealed', '-n', ns, '--encrypt-passphrase-file', passphrase],
    ]) {
      const b = await cli(args, env);
      expect(b.code, b.stderr).toBe(0);
    }
    // Gone from the cluster: a refused restore must not bring anything back.
    await objects().delete(namespace(ns));
    await until(
      `namespace ${ns} to be deleted`,
      async () => !(await exists(namespace(ns))),
      120_000,
      500,
    );
  });

  const holds = `  the snapshot's namespaces: ${ns}`;
  const types = `the snapshot's resource types: configmaps, namespaces, secrets, serviceaccounts`;

  it.each([
    {
      what: 'restore -n of a namespace the snapshot does not hold',
      args: ['restore', 'flags', '-n', 'not-in-snapshot'],
      error: 'namespace "not-in-snapshot" is not in snapshot "flags"',
      hint: holds,
    },
    {
      what: 'diff -n of a namespace the snapshot does not hold',
      args: ['diff', 'flags', '--include-namespaces', `${ns}x`],
      error: `namespace "${ns}x" is not in snapshot "flags"`,
      hint: holds,
    },
    {
      what: 'a --namespace-mapping source the snapshot does not hold',
      args: ['restore', 'flags', '--namespace-mapping', `typo=${copy}`],
      error: `--namespace-mapping typo=${copy}: namespace "typo" is not in snapshot "flags"`,
      hint: `${holds}; OLD names a namespace as it was backed up`,
    },
    {
      what: 'a typo in --exclude-resources (it would restore the Secrets)',
      args: ['restore', 'flags', '--exclude-resources', 'secrts'],
      error:
        '--exclude-resources: neither snapshot "flags" nor the server has a resource type "secrts"',
      hint: `  ${types}; kubectl api-resources lists the server's`,
    },
    {
      what: 'a typo in --include-resources of diff',
      args: ['diff', 'flags', '--include-resources', 'configmaps,confgmaps'],
      error:
        '--include-resources: neither snapshot "flags" nor the server has a resource type "confgmaps"',
      hint: `  ${types}; kubectl api-resources lists the server's`,
    },
    {
      what: 'a type the snapshot lacks with --dry-run=client (no server to ask)',
      args: ['restore', 'flags', '--dry-run=client', '--exclude-resources', 'pvc'],
      error: '--exclude-resources: snapshot "flags" has no resource type "pvc"',
      hint: `  ${types}\n`,
    },
    {
      what: 'a bad flag on an encrypted snapshot without its key: the archive is never opened',
      args: ['restore', 'sealed', '-n', 'typo'],
      error: 'namespace "typo" is not in snapshot "sealed"',
      hint: holds,
    },
  ])('$what: exit 1, the error, nothing created', async ({ args, error, hint }) => {
    const r = await cli([...args, '-o', 'json'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(`error: ${error}`);
    expect(r.stderr).toContain(hint);
    for (const name of [ns, copy, 'not-in-snapshot', 'typo'])
      expect(await exists(namespace(name)), `namespace ${name}`).toBe(false);
  });

  it('takes a type the snapshot lacks when the server serves it', async () => {
    const r = await cli(['diff', 'flags', '--exclude-resources', 'persistentvolumeclaims'], env);
    expect(r.code, r.stderr).toBe(0);
  });

  it('spelled right, --exclude-resources secrets restores all but the Secrets', async () => {
    const r = await cli(['restore', 'flags', '--exclude-resources', 'secrets'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(await until('the ConfigMap back', () => exists(configMap(ns, 'settings')))).toBe(true);
    expect(await exists(secret(ns, 'db-password', {}))).toBe(false);
  });
});
