// The archive is untrusted input: whoever can write the bucket can rewrite both the archive and
// snapshot.json (fixing up its size and sha256). Each case plants such a snapshot, byte by
// byte, and checks that `verify` reports it DAMAGED and `restore` refuses it with exit code 1
// and one `error:` line, having created NOTHING in the cluster. The decompression bombs also
// check that the CLI's peak RSS and its restore spool stay bounded.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { readArchive } from '../../src/archive/reader.js';
import type { SnapshotManifest } from '../../src/core/types.js';
import {
  clusterRoleBinding,
  configMap,
  create,
  namespace,
  type Obj,
  roleBinding,
  serviceAccount,
} from './fixtures.js';
import { type CliResult, cli, cluster, objects, tempDir, uniqueName } from './helpers.js';
import { expectCleanError } from './storage-kinds.js';

const root = join(import.meta.dirname, '..', '..');
const ns = uniqueName('trust');
const dir = tempDir('ks-trust-');
const storage = ['--storage', dir];
const file = (...parts: string[]) => join(dir, 'snapshots', ...parts);
type Entry = { name: string; data: Buffer };
const genuine = { genuine: [] as Entry[], 'genuine-false': [] as Entry[] };

const RBAC = 'rbac.authorization.k8s.io';
const CRBS = `clusterrolebindings.${RBAC}`;

async function readObj(o: Obj): Promise<Obj | undefined> {
  try {
    return (await objects().read(o as never)) as Obj;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const tar = tarPack();
  for (const e of entries) tar.entry({ name: e.name, mode: 0o600 }, e.data);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const d of tar) chunks.push(d as Buffer);
  return Buffer.concat(chunks);
}

const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const manifestOf = (from: string) =>
  JSON.parse(readFileSync(file(from, 'snapshot.json'), 'utf8')) as SnapshotManifest;

/** snapshot.json as an attacker consistent with the planted entries would write it. */
function declare(
  m: SnapshotManifest,
  resource: string,
  kind: string,
  apiVersion: string,
  namespaced: boolean,
  n = 1,
): SnapshotManifest {
  const resources = m.resources.map((r) => ({ ...r }));
  const r = resources.find((x) => x.resource === resource);
  if (r) r.count += n;
  else resources.push({ resource, apiVersion, kind, namespaced, count: n });
  return { ...m, resources, totalObjects: m.totalObjects + n };
}

/**
 * Stores snapshot `name` with archive bytes `archive` and a snapshot.json (from `from`, edited
 * by `edit`) whose size and sha256 match them: only the contents checks can object.
 */
function store(
  name: string,
  archive: Buffer,
  edit: (m: SnapshotManifest) => SnapshotManifest = (m) => m,
  from = 'genuine',
): void {
  const base = manifestOf(from);
  const m = edit({
    ...base,
    name,
    archive: {
      ...base.archive,
      key: `snapshots/${name}/resources.tar.gz`,
      size: archive.length,
      sha256: createHash('sha256').update(archive).digest('hex'),
    },
    log: { key: `snapshots/${name}/log.jsonl.gz` },
  });
  mkdirSync(file(name), { recursive: true });
  writeFileSync(file(name, 'resources.tar.gz'), archive);
  writeFileSync(file(name, 'log.jsonl.gz'), readFileSync(file(from, 'log.jsonl.gz')));
  writeFileSync(file(name, 'snapshot.json'), JSON.stringify(m));
}

const pwnBinding = (name: string, saNs: string) =>
  clusterRoleBinding(name, 'cluster-admin', 'default', saNs);

beforeAll(async () => {
  await create([namespace(ns), configMap(ns, 'cfg', { a: 'b' }), serviceAccount(ns, 'app')]);
  for (const [name, mode] of [
    ['genuine', 'auto'],
    ['genuine-false', 'false'],
  ] as const) {
    const b = await cli([
      'backup',
      name,
      '-n',
      ns,
      `--include-cluster-resources=${mode}`,
      ...storage,
    ]);
    expect(b.code, b.stderr).toBe(0);
    const entries: Entry[] = [];
    await readArchive(Readable.from([readFileSync(file(name, 'resources.tar.gz'))]), (e) => {
      entries.push(e);
    });
    genuine[name] = entries;
  }
  expect(manifestOf('genuine').archive.inflatedSize).toBeGreaterThan(0);
  const v = await cli(['verify', 'genuine', ...storage]);
  expect(v.code, v.stdout + v.stderr).toBe(0);
}, 120_000);

interface Case {
  label: string;
  name: string;
  plant: (name: string) => Promise<void>;
  message: RegExp;
  /** Objects the attack would have created. */
  absent?: () => Obj[];
}

const other = `${ns}-x`.slice(0, 63);

const cases: Case[] = [
  {
    label: 'a planted ClusterRoleBinding to cluster-admin (auto)',
    name: 'crb-auto',
    plant: async (name) => {
      const crb = pwnBinding(`${name}-${ns}`, 'kube-system');
      store(
        name,
        gzipSync(
          await tarOf([
            ...genuine.genuine,
            { name: `resources/${CRBS}/cluster/${name}-${ns}.json`, data: json(crb) },
          ]),
        ),
        (m) => declare(m, CRBS, 'ClusterRoleBinding', `${RBAC}/v1`, false),
      );
    },
    message: /is not related to the snapshot's namespaces/,
    absent: () => [pwnBinding(`crb-auto-${ns}`, 'kube-system')],
  },
  {
    label: 'a planted ClusterRoleBinding to cluster-admin (--include-cluster-resources=false)',
    name: 'crb-false',
    plant: async (name) => {
      const crb = pwnBinding(`${name}-${ns}`, ns);
      store(
        name,
        gzipSync(
          await tarOf([
            ...genuine['genuine-false'],
            { name: `resources/${CRBS}/cluster/${name}-${ns}.json`, data: json(crb) },
          ]),
        ),
        (m) => declare(m, CRBS, 'ClusterRoleBinding', `${RBAC}/v1`, false),
        'genuine-false',
      );
    },
    message: /is cluster-scoped, but the snapshot was taken with --include-cluster-resources=false/,
    absent: () => [pwnBinding(`crb-false-${ns}`, ns)],
  },
  {
    label: 'a smuggled kube-system RoleBinding',
    name: 'kube-system-rb',
    plant: async (name) => {
      const rb = roleBinding(
        'kube-system',
        `${name}-${ns}`,
        'cluster-admin',
        'default',
        'kube-system',
      );
      store(
        name,
        gzipSync(
          await tarOf([
            {
              name: `resources/rolebindings.${RBAC}/namespaces/kube-system/${name}-${ns}.json`,
              data: json(rb),
            },
            ...genuine.genuine,
          ]),
        ),
        (m) => declare(m, `rolebindings.${RBAC}`, 'RoleBinding', `${RBAC}/v1`, true),
      );
    },
    message: /is in namespace kube-system, which is not one of the snapshot's namespaces/,
    absent: () => [roleBinding('kube-system', `kube-system-rb-${ns}`, 'cluster-admin', 'default')],
  },
  {
    label: 'an unlisted namespace',
    name: 'unlisted-ns',
    plant: async (name) => {
      store(
        name,
        gzipSync(
          await tarOf([
            ...genuine.genuine,
            { name: `resources/namespaces/cluster/${other}.json`, data: json(namespace(other)) },
            {
              name: `resources/configmaps/namespaces/${other}/evil.json`,
              data: json(configMap(other, 'evil', { x: 'y' })),
            },
          ]),
        ),
        (m) =>
          declare(
            declare(m, 'namespaces', 'Namespace', 'v1', false),
            'configmaps',
            'ConfigMap',
            'v1',
            true,
          ),
      );
    },
    message: /not related to the snapshot's namespaces|not one of the snapshot's namespaces/,
    absent: () => [namespace(other)],
  },
  {
    label: 'data after the tar end-of-archive marker',
    name: 'after-eof',
    plant: async (name) => {
      const extra = await tarOf([
        {
          name: `resources/configmaps/namespaces/${ns}/evil.json`,
          data: json(configMap(ns, 'evil', { x: 'y' })),
        },
      ]);
      store(name, gzipSync(Buffer.concat([await tarOf(genuine.genuine), extra])), (m) =>
        declare(m, 'configmaps', 'ConfigMap', 'v1', true),
      );
    },
    message: /data after its tar end-of-archive marker/,
  },
  {
    label: 'a second gzip member',
    name: 'second-member',
    plant: async (name) => {
      const extra = await tarOf([
        {
          name: `resources/configmaps/namespaces/${ns}/evil.json`,
          data: json(configMap(ns, 'evil', { x: 'y' })),
        },
      ]);
      store(name, Buffer.concat([gzipSync(await tarOf(genuine.genuine)), gzipSync(extra)]), (m) =>
        declare(m, 'configmaps', 'ConfigMap', 'v1', true),
      );
    },
    message: /data after its tar end-of-archive marker/,
  },
  {
    label: 'duplicate entries',
    name: 'duplicate',
    plant: async (name) => {
      const cm = genuine.genuine.find((e) => e.name.startsWith('resources/configmaps/')) as Entry;
      const evil = configMap(ns, 'cfg', { a: 'evil' });
      store(
        name,
        gzipSync(await tarOf([...genuine.genuine, { name: cm.name, data: json(evil) }])),
        (m) => declare(m, 'configmaps', 'ConfigMap', 'v1', true),
      );
    },
    message: /entry resources\/configmaps\/namespaces\/\S+\/cfg\.json appears twice/,
  },
  {
    label: 'formatVersion 99',
    name: 'format-99',
    plant: async (name) => {
      store(name, readFileSync(file('genuine', 'resources.tar.gz')), (m) => ({
        ...m,
        formatVersion: 99,
      }));
    },
    message: /formatVersion 99 was made by a newer kubectl-snapshot; upgrade/,
  },
  {
    label: 'a foreign archive.key',
    name: 'foreign-key',
    plant: async (name) => {
      store(name, readFileSync(file('genuine', 'resources.tar.gz')), (m) => ({
        ...m,
        archive: { ...m.archive, key: 'snapshots/genuine/resources.tar.gz' },
      }));
    },
    message: /names archive "snapshots\/genuine\/resources\.tar\.gz", not the snapshot's own/,
  },
  {
    label: 'an entry whose object is in another namespace than its path',
    name: 'path-mismatch',
    plant: async (name) => {
      store(
        name,
        gzipSync(
          await tarOf([
            ...genuine.genuine,
            {
              name: `resources/configmaps/namespaces/${ns}/evil.json`,
              data: json(configMap('kube-system', 'evil', { x: 'y' })),
            },
          ]),
        ),
        (m) => declare(m, 'configmaps', 'ConfigMap', 'v1', true),
      );
    },
    message: /entry \S+evil\.json does not hold the object its path names/,
    absent: () => [configMap('kube-system', 'evil')],
  },
  {
    label: "an entry whose kind is not its path's resource",
    name: 'kind-mismatch',
    plant: async (name) => {
      const crb = pwnBinding(`${name}-${ns}`, ns);
      store(
        name,
        gzipSync(
          await tarOf([
            ...genuine.genuine,
            { name: `resources/namespaces/cluster/${name}-${ns}.json`, data: json(crb) },
          ]),
        ),
        (m) => declare(m, 'namespaces', 'Namespace', 'v1', false),
      );
    },
    message:
      /holds a rbac\.authorization\.k8s\.io\/v1 ClusterRoleBinding, not the Namespace of namespaces/,
    absent: () => [pwnBinding(`kind-mismatch-${ns}`, ns)],
  },
];

describe('an archive that does not match its snapshot.json (checksum fixed up)', () => {
  it.each(cases.map((c) => [c.label, c] as const))(
    '%s: verify reports it DAMAGED, restore refuses with exit 1 and creates nothing',
    async (_label, c) => {
      await c.plant(c.name);
      const v = await cli(['verify', c.name, ...storage]);
      expect(v.code, v.stdout + v.stderr).toBe(1);
      expect(v.stdout).toContain(`snapshot ${c.name} is DAMAGED`);
      expect(v.stdout).toMatch(c.message);
      expect(v.stdout).not.toContain('does not match its snapshot.json');

      const target = `${ns}-${c.name}`.slice(0, 63);
      const r = await cli([
        'restore',
        c.name,
        '--namespace-mapping',
        `${ns}=${target}`,
        ...storage,
      ]);
      expectCleanError(r, c.message);
      expect(await readObj(namespace(target))).toBeUndefined();
      for (const o of c.absent?.() ?? [])
        expect(await readObj(o), JSON.stringify(o.metadata)).toBeUndefined();

      const d = await cli(['diff', c.name, '--namespace-mapping', `${ns}=${target}`, ...storage]);
      expect(d.code, d.stdout + d.stderr).toBe(1);
      expect(d.stderr).toMatch(c.message);
    },
    60_000,
  );
});

// ─── Decompression bombs ────────────────────────────────────────────────────────────────────

interface Measured extends CliResult {
  /** Peak resident set of the CLI process (VmHWM), bytes. */
  peakRss: number;
  /** Largest size seen of the restore spool (an unlinked file the CLI holds open), bytes. */
  peakSpool: number;
}

/** Runs the CLI, polling its VmHWM and its open spool file until it exits. */
function measuredCli(args: string[]): Promise<Measured> {
  const c = cluster();
  const child = spawn(join(root, 'bin', 'kubectl-snapshot'), args, {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      KUBECONFIG: c.kubeconfig,
      TMPDIR: tempDir('ks-trust-tmp-'),
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  let peakRss = 0;
  let peakSpool = 0;
  const poll = () => {
    const pid = child.pid as number;
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peakRss = Math.max(peakRss, Number(m[1]) * 1024);
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`).includes('kubectl-snapshot-restore-'))
            peakSpool = Math.max(peakSpool, statSync(`/proc/${pid}/fd/${fd}`).size);
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // exited
    }
  };
  const timer = setInterval(poll, 20);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code: code ?? -1, stdout, stderr, peakRss, peakSpool });
    });
  });
}

/** A ustar header for a regular file of `size` bytes, whose data the caller writes. */
function header(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000600\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

describe('decompression bombs', () => {
  it('5 MB of gzip inflating to 5 GB of cluster-scoped entries: refused once past the recorded size; RSS and spool stay bounded', async () => {
    const name = 'bomb-cluster';
    const declared = 50 * 1024 * 1024;
    const entrySize = 1024 * 1024;
    const count = 5000;
    const pad = gzipSync(Buffer.alloc(entrySize - 100, 0x41), { level: 9 });
    const path = join(tempDir('ks-bomb-'), 'a.tar.gz');
    const out = openSync(path, 'w');
    writeSync(
      out,
      gzipSync(await tarOf(genuine.genuine).then((t) => t.subarray(0, t.length - 1024))),
    );
    for (let i = 0; i < count; i++) {
      const nm = `bomb-${String(i).padStart(5, '0')}`;
      const prefix = `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"${nm}"},"p":"`;
      const suffix = `"}`;
      const body = prefix.length + (entrySize - 100) + suffix.length;
      const tail = Buffer.alloc(suffix.length + ((512 - (body % 512)) % 512));
      tail.write(suffix);
      writeSync(
        out,
        gzipSync(
          Buffer.concat([
            header(`resources/namespaces/cluster/${nm}.json`, body),
            Buffer.from(prefix),
          ]),
        ),
      );
      writeSync(out, pad);
      writeSync(out, gzipSync(tail));
    }
    writeSync(out, gzipSync(Buffer.alloc(1024)));
    closeSync(out);
    const archive = readFileSync(path);
    expect(archive.length).toBeLessThan(12 * 1024 * 1024);
    store(name, archive, (m) => ({
      ...declare(m, 'namespaces', 'Namespace', 'v1', false, count),
      selection: { ...m.selection, includeClusterResources: 'true' },
      archive: { ...m.archive, inflatedSize: declared },
    }));

    const { r, target } = await restoreBomb(name, 'a');
    expectCleanError(r, /archive inflates to more than \d+ bytes/);
    expect(r.peakRss).toBeLessThan(300 * 2 ** 20);
    expect(r.peakSpool).toBeLessThan(2 * declared);
    expect(await readObj(namespace(target))).toBeUndefined();
    expect(await readObj(namespace('bomb-00000'))).toBeUndefined();

    const v = await measuredCli(['verify', name, ...storage]);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/DAMAGED[\s\S]*archive inflates to more than/);
    expect(v.peakRss).toBeLessThan(300 * 2 ** 20);
  }, 240_000);

  /** Restores bomb `name` into a mapped namespace, measuring the CLI's peak RSS and spool. */
  async function restoreBomb(name: string, label: string) {
    const target = `${ns}-bomb-${label}`.slice(0, 63);
    const r = await measuredCli([
      'restore',
      name,
      '--namespace-mapping',
      `${ns}=${target}`,
      ...storage,
    ]);
    console.log(
      `bomb (${label}): peak RSS ${(r.peakRss / 2 ** 20).toFixed(0)} MiB, peak spool ${(r.peakSpool / 2 ** 20).toFixed(1)} MiB`,
    );
    return { r, target };
  }

  it('a small archive of namespaced entries inflating to GBs: refused at the first oversized entry', async () => {
    const name = 'bomb-entries';
    const size = 2 ** 31;
    const zeros = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const parts: Buffer[] = [
      gzipSync(
        Buffer.concat([
          (await tarOf(genuine.genuine)).subarray(0, -1024),
          header(`resources/configmaps/namespaces/${ns}/huge.json`, size),
        ]),
      ),
    ];
    for (let i = 0; i < size / (64 * 1024 * 1024); i++) parts.push(zeros);
    parts.push(gzipSync(Buffer.alloc(1024)));
    const archive = Buffer.concat(parts);
    expect(archive.length).toBeLessThan(8 * 1024 * 1024);
    // An old snapshot.json, without inflatedSize: the generous legacy bound applies.
    store(name, archive, (m) => {
      const { inflatedSize: _, ...rest } = m.archive;
      return { ...declare(m, 'configmaps', 'ConfigMap', 'v1', true), archive: rest };
    });
    const { r, target } = await restoreBomb(name, 'b');
    expectCleanError(r, /huge\.json" is 2147483648 bytes, over the 3145728-byte limit/);
    expect(r.peakRss).toBeLessThan(300 * 2 ** 20);
    expect(r.peakSpool).toBeLessThan(2 ** 20);
    expect(await readObj(namespace(target))).toBeUndefined();
  }, 240_000);
});
