// A snapshot never silently loses, rounds or half-writes what it was given: exact numbers,
// damaged manifests that do not stop a whole location. Checked with kubectl and by reading the
// stored files, not through the code under test.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { userKubeconfig } from '../cluster/harness.js';
import { configMap, crd, create, namespace, type Obj, waitEstablished } from './fixtures.js';
import { cli, cluster, objects, tempDir, uniqueName, until } from './helpers.js';

const kubectlAs = (kubeconfig: string, ...args: string[]) =>
  execFileSync(join(cluster().binDir, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8',
  });
const kubectl = (...args: string[]) => kubectlAs(cluster().kubeconfig, ...args);

/** Waits for what the controllers add to a fresh namespace, so backups see a stable set. */
async function settledNamespace(ns: string): Promise<void> {
  await until(`kube-root-ca.crt and the default ServiceAccount in ${ns}`, async () => {
    const has = (kind: string, name: string) =>
      kubectl('get', kind, name, '-n', ns, '-o', 'name', '--ignore-not-found').trim() !== '';
    return has('configmap', 'kube-root-ca.crt') && has('serviceaccount', 'default');
  });
}

/** The text of one entry of a (plain) tar.gz, found by its path. */
function archiveEntry(file: string, path: string): string {
  const tar = gunzipSync(readFileSync(file));
  for (let at = 0; at + 512 <= tar.length; ) {
    const name = tar
      .subarray(at, at + 100)
      .toString('utf8')
      .replace(/\0.*$/s, '');
    const size = Number.parseInt(
      tar
        .subarray(at + 124, at + 136)
        .toString('utf8')
        .trim(),
      8,
    );
    if (name === path) return tar.subarray(at + 512, at + 512 + size).toString('utf8');
    if (!name) break;
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`no entry ${path} in ${file}`);
}

describe('numbers keep their exact digits', () => {
  const group = 'numbers.kubectl-snapshot.test';
  const numbers = {
    beyondDouble: '9007199254740993',
    int64Max: '9223372036854775807',
    int64Min: '-9223372036854775808',
    list: '[1,9007199254740995,-9007199254740995]',
  };
  let ns: string;

  beforeAll(async () => {
    ns = uniqueName('numbers');
    await create([namespace(ns), crd(group, 'Counter', 'counters')]);
    await waitEstablished(`counters.${group}`);
  });

  it('from kubectl create through the archive and a restore back to kubectl get, byte-exact', async () => {
    const dir = tempDir();
    // Written as text: a JavaScript object could not even hold these numbers.
    // A 20-digit integer is beyond int64 too: the API server keeps what it can of it, and the
    // round trip must give back exactly what the server served.
    const manifest = `{"apiVersion":"${group}/v1","kind":"Counter","metadata":{"name":"big","namespace":"${ns}"},"spec":{"beyondDouble":${numbers.beyondDouble},"int64Max":${numbers.int64Max},"int64Min":${numbers.int64Min},"list":${numbers.list},"twentyDigits":12345678901234567890}}`;
    writeFileSync(join(dir, 'counter.json'), manifest);
    kubectl('create', '-f', join(dir, 'counter.json'));
    const specOf = (json: string) => json.slice(json.indexOf('"spec":'));
    const served = specOf(
      kubectl('get', 'counters', 'big', '-n', ns, '-o', 'json').replace(/\s/g, ''),
    );
    for (const n of Object.values(numbers)) expect(served).toContain(n);

    const storage = `file://${join(dir, 'store')}`;
    const backup = await cli(['backup', 'exact', '-n', ns, '--storage', storage]);
    expect(backup.code, backup.stderr).toBe(0);
    const stored = archiveEntry(
      join(dir, 'store', 'snapshots', 'exact', 'resources.tar.gz'),
      `resources/counters.${group}/namespaces/${ns}/big.json`,
    );
    for (const n of Object.values(numbers)) expect(stored).toContain(n);

    // Nothing to create while it exists: the digest of the cluster's copy matches the archive's.
    const same = await cli(['diff', 'exact', '--storage', storage, '-o', 'json']);
    expect(same.code, same.stderr).toBe(0);
    const counter = (
      JSON.parse(same.stdout) as { results: { name: string; outcome: string }[] }
    ).results.find((r) => r.name === 'big');
    expect(counter?.outcome).toBe('exists-identical');

    kubectl('delete', 'counters', 'big', '-n', ns);
    await until('the Counter to be gone', async () =>
      kubectl('get', 'counters', '-n', ns, '-o', 'name').trim() === '' ? true : undefined,
    );
    const restore = await cli(['restore', 'exact', '--storage', storage]);
    expect(restore.code, restore.stderr).toBe(0);
    const back = specOf(
      kubectl('get', 'counters', 'big', '-n', ns, '-o', 'json').replace(/\s/g, ''),
    );
    expect(back).toBe(served);
  });
});

describe('a damaged snapshot.json', () => {
  it.each([
    ['invalid JSON', '{"name": "bad", '],
    ['a JSON array', '[]'],
    ['a non-string startedAt', '__startedAt__'],
  ])('(%s) is named by list and skipped by prune, which still prunes the rest', async (_, body) => {
    const ns = uniqueName('damaged');
    await create([namespace(ns)]);
    const dir = tempDir();
    const storage = `file://${dir}`;
    for (const name of ['old', 'new', 'bad']) {
      const r = await cli(['backup', name, '-n', ns, '--storage', storage]);
      expect(r.code, r.stderr).toBe(0);
      await new Promise((res) => setTimeout(res, 1100)); // distinct startedAt seconds
    }
    const file = join(dir, 'snapshots', 'bad', 'snapshot.json');
    const genuine = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(
      file,
      body === '__startedAt__' ? JSON.stringify({ ...genuine, startedAt: 12 }) : body,
    );

    const list = await cli(['list', '--storage', storage]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toMatch(/^warning: snapshot\.json of "bad" is damaged: /);
    expect(list.stdout).toMatch(/^bad\s+Damaged/m);
    expect(list.stdout).toMatch(/^old\s+Completed/m);
    expect(list.stdout).toMatch(/^new\s+Completed/m);

    const describe = await cli(['describe', 'bad', '--storage', storage]);
    expect(describe.code).toBe(1);
    expect(describe.stderr).toMatch(/^error: snapshot\.json of "bad" is damaged: /);
    expect(describe.stderr).not.toMatch(/TypeError/);

    const prune = await cli(['prune', '--keep-last', '1', '--storage', storage]);
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.stdout).toContain('warning: left bad alone: its snapshot.json is damaged');
    const after = await cli(['list', '--storage', storage, '-o', 'json']);
    expect((JSON.parse(after.stdout) as { name: string }[]).map((m) => m.name)).toEqual(['new']);
  });
});

describe('a schedule that loses its rights keeps its good snapshots', () => {
  const RBAC = 'rbac.authorization.k8s.io';
  const user = uniqueName('nightly-sa');
  let ns: string;
  let kubeconfig: string;
  const storage = `file://${tempDir()}`;
  const run = () =>
    cli(['schedule', 'exec', 'nightly', '-n', ns, '--keep-last', '2', '--storage', storage], {
      KUBECONFIG: kubeconfig,
    });
  const grant = async (rules: unknown[]) => {
    const api = objects();
    const role = {
      apiVersion: `${RBAC}/v1`,
      kind: 'Role',
      metadata: { name: 'nightly', namespace: ns },
    };
    await api.delete(role).catch(() => {});
    await api.create({ ...role, rules } as Obj);
  };
  // `kubectl auth can-i` answers no with exit code 1.
  const canList = (resource: string) => {
    try {
      return kubectlAs(kubeconfig, 'auth', 'can-i', 'list', resource, '-n', ns).trim() === 'yes';
    } catch {
      return false;
    }
  };
  const names = async () => {
    const r = await cli(['list', '--storage', storage, '-o', 'json']);
    return (JSON.parse(r.stdout) as { name: string; phase?: string }[]).map((m) => [
      m.name.replace(/-\d{8}-\d{6}$/, ''),
      m.phase,
    ]);
  };
  const nextSecond = () => new Promise((r) => setTimeout(r, 1100)); // names have 1 s resolution

  beforeAll(async () => {
    ns = uniqueName('losing');
    await create([namespace(ns), configMap(ns, 'app-config', { a: '1' })]);
    await settledNamespace(ns);
    await grant([{ apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list'] }]);
    await create([
      {
        apiVersion: `${RBAC}/v1`,
        kind: 'RoleBinding',
        metadata: { name: 'nightly', namespace: ns },
        roleRef: { apiGroup: RBAC, kind: 'Role', name: 'nightly' },
        subjects: [{ apiGroup: RBAC, kind: 'User', name: user }],
      },
    ]);
    kubeconfig = userKubeconfig(cluster(), user);
    await until('the Role to apply', async () => canList('secrets'));
  });

  it('a partial run is kept, exits 2 and does not prune; a run that reads nothing fails and writes nothing', async () => {
    for (const _ of [1, 2, 3]) {
      const good = await run();
      expect(good.code, good.stderr).toBe(0);
      await nextSecond();
    }
    expect(await names()).toEqual([
      ['nightly', 'Completed'],
      ['nightly', 'Completed'],
    ]);

    // Only ConfigMaps readable now: the run is partial.
    await grant([{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }]);
    await until('the narrower Role to apply', async () => !canList('secrets'));
    for (const _ of [1, 2]) {
      const partial = await run();
      expect(partial.code).toBe(2);
      expect(partial.stdout).toContain('prune (schedule nightly): skipped, the backup was partial');
      expect(partial.stderr).toMatch(/^error: snapshot nightly-\d{8}-\d{6} is partial: /);
      await nextSecond();
    }

    // Nothing readable at all: an error, and no snapshot.
    await objects().delete({
      apiVersion: `${RBAC}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'nightly', namespace: ns },
    });
    await until('the RoleBinding to be gone', async () => !canList('configmaps'));
    const nothing = await run();
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(
      new RegExp(
        `^error: nothing could be read from namespace\\(s\\) ${ns}: every list was forbidden, so no snapshot was written`,
      ),
    );

    expect(await names()).toEqual([
      ['nightly', 'Completed'],
      ['nightly', 'Completed'],
      ['nightly', 'PartiallyFailed'],
      ['nightly', 'PartiallyFailed'],
    ]);
    const list = await cli(['list', '--storage', storage]);
    expect(list.stdout.match(/PartiallyFailed/g)).toHaveLength(2);
  });
});
