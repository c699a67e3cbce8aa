// Signed snapshots end to end: backup --sign-key, restore/diff/verify --verify-key through a
// directory and MinIO; tampered, unsigned and foreign-signed snapshots refused before the
// archive is read; locations that require signatures; a schedule that signs with a key kept
// only in its Secret; and stored strings that cannot reach the terminal as escape sequences.
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { configMap, create, namespace, roleBinding } from './fixtures.js';
import { api, cli, objects, s3Url, tempDir, uniqueName } from './helpers.js';
import {
  directoryStorage,
  expectCleanError,
  minioStorage,
  type StorageKind,
} from './storage-kinds.js';

interface KeyPair {
  priv: string;
  pub: string;
  fingerprint: string;
}

/** A key pair made exactly as the README says, with openssl. */
function keyPair(dir: string, name: string): KeyPair {
  const priv = join(dir, `${name}.pem`);
  const pub = join(dir, `${name}.pub.pem`);
  execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', priv]);
  execFileSync('openssl', ['pkey', '-in', priv, '-pubout', '-out', pub]);
  // The fingerprint as documented: SHA-256 of the raw 32-byte public key.
  const der = createPublicKey(readFileSync(pub)).export({ format: 'der', type: 'spki' });
  const fingerprint = `SHA256:${createHash('sha256').update(der.subarray(-32)).digest('hex')}`;
  return { priv, pub, fingerprint };
}

async function exists(ns: string): Promise<boolean> {
  try {
    await objects().read(namespace(ns) as never);
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
}

const keys = tempDir('ks-sign-keys-');
let alice: KeyPair;
let mallory: KeyPair;
const ns = uniqueName('sign');

beforeAll(async () => {
  alice = keyPair(keys, 'alice');
  mallory = keyPair(keys, 'mallory');
  await create([
    namespace(ns),
    configMap(ns, 'cfg', { a: 'b' }),
    roleBinding(ns, 'admins', 'admin', 'ci'),
  ]);
});

describe.each<[string, () => StorageKind]>([
  ['a directory', () => directoryStorage()],
  ['MinIO', () => minioStorage()],
])('signed snapshots in %s', (_label, make) => {
  const storage = make();

  beforeAll(async () => {
    for (const [name, extra] of [
      ['signed', ['--sign-key', alice.priv]],
      ['unsigned', []],
      ['foreign', ['--sign-key', mallory.priv]],
      ['tampered', ['--sign-key', alice.priv]],
    ] as const) {
      const b = await storage.cli(['backup', name, '-n', ns, ...extra]);
      expect(b.code, b.stderr).toBe(0);
    }
    // One flipped byte in snapshot.json (a digit of the archive's sha256): still valid JSON.
    const key = 'snapshots/tampered/snapshot.json';
    const raw = await storage.readRaw(key);
    const at = raw.indexOf('"sha256": "') + 11;
    raw[at] = raw[at] === 0x30 ? 0x31 : 0x30;
    await storage.writeRaw(key, raw);
  });

  it('stores the signature next to snapshot.json, and verify names the signer', async () => {
    const all = await storage.allKeys();
    expect(all).toContain('snapshots/signed/snapshot.json.sig');
    expect(all).not.toContain('snapshots/unsigned/snapshot.json.sig');
    const v = await storage.cli(['verify', 'signed', '--verify-key', alice.pub]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain(`signed by ${alice.fingerprint}: signature verified`);
    const unchecked = await storage.cli(['verify', 'signed']);
    expect(unchecked.code, unchecked.stderr).toBe(0);
    expect(unchecked.stdout).toContain(`signed by ${alice.fingerprint} (not checked`);
    const json = await storage.cli(['verify', 'signed', '--verify-key', alice.pub, '-o', 'json']);
    expect(JSON.parse(json.stdout).signature).toEqual({
      keyFingerprint: alice.fingerprint,
      verified: true,
    });
  });

  it('restore --verify-key restores a signed snapshot, and warns about the admin RoleBinding', async () => {
    const target = uniqueName('signed-to');
    const r = await storage.cli([
      'restore',
      'signed',
      '--verify-key',
      alice.pub,
      '--namespace-mapping',
      `${ns}=${target}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /warning: 1 binding\(s\) .* grant wide RBAC rights[^\n]*\n {2}rolebindings\.rbac\.authorization\.k8s\.io\/admins -n \S+: binds ClusterRole admin/,
    );
    expect(r.stdout.indexOf('warning:')).toBeLessThan(r.stdout.indexOf('RESOURCE'));
    expect(await exists(target)).toBe(true);
    const d = await storage.cli(['diff', 'signed', '--verify-key', alice.pub]);
    expect(d.code, d.stderr).toBe(0);
  });

  for (const [snap, message] of [
    ['tampered', /signature of snapshot "tampered" does not match its snapshot\.json/],
    ['unsigned', /snapshot "unsigned" is not signed/],
    ['foreign', /snapshot "foreign" is signed by another key/],
  ] as const) {
    it(`refuses the ${snap} snapshot in restore, diff, --dry-run and verify; nothing created`, async () => {
      const target = uniqueName(`${snap}-to`);
      for (const args of [
        ['restore', snap, '--namespace-mapping', `${ns}=${target}`],
        ['restore', snap, '--dry-run', '--namespace-mapping', `${ns}=${target}`],
        ['diff', snap],
        ['verify', snap],
      ]) {
        const r = await storage.cli([...args, '--verify-key', alice.pub]);
        expectCleanError(r, message);
      }
      expect(await exists(target)).toBe(false);
    });
  }

  it('a location added with --verify-key requires signatures', async () => {
    const env = { ...storage.env };
    const add = await cli(
      ['location', 'add', 'vault', storage.location, '--verify-key', alice.pub],
      env,
    );
    expect(add.code, add.stderr).toBe(0);
    const list = await cli(['location', 'list'], env);
    expect(list.stdout).toContain(`required (${alice.fingerprint})`);
    const run = (args: string[]) => cli([...args, '--storage', 'vault'], env);
    expectCleanError(await run(['restore', 'unsigned', '--dry-run']), /is not signed/);
    expectCleanError(await run(['verify', 'foreign']), /signed by another key/);
    const ok = await run(['verify', 'signed']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`signed by ${alice.fingerprint}: signature verified`);
    expectCleanError(
      await run(['backup', 'vault-unsigned', '-n', ns]),
      /requires signed snapshots/,
    );
    expectCleanError(
      await run(['backup', 'vault-mallory', '-n', ns, '--sign-key', mallory.priv]),
      /accepts snapshots signed by/,
    );
    const b = await run(['backup', 'vault-signed', '-n', ns, '--sign-key', alice.priv]);
    expect(b.code, b.stderr).toBe(0);
    expect(await storage.allKeys()).not.toContain('snapshots/vault-unsigned/snapshot.json');
  });
});

describe('a schedule that signs', () => {
  const prefix = `sign-e2e/${uniqueName('p')}`;
  const env = {
    XDG_CONFIG_HOME: join(tempDir('ks-sign-cfg-'), 'config'),
  };
  const name = uniqueName('signs');
  const ins = uniqueName('sign-ins');

  it('puts the key only in the Secret; the CronJob run signs with it', async () => {
    const pem = readFileSync(alice.priv, 'utf8');
    const body = pem.split('\n').filter((l) => l && !l.startsWith('-----'))[0] as string;
    const createArgs = [
      'schedule',
      'create',
      name,
      '-n',
      ns,
      '--schedule',
      '@daily',
      '--install-namespace',
      ins,
      '--storage',
      s3Url(prefix),
      '--sign-key',
      alice.priv,
    ];
    const c = await cli(createArgs, env);
    expect(c.code, c.stderr).toBe(0);
    const batch = api(k8s.BatchV1Api);
    const cron = await batch.readNamespacedCronJob({ name, namespace: ins });
    const spec = JSON.stringify(cron);
    expect(spec).not.toContain(body);
    expect(spec).not.toContain(Buffer.from(pem).toString('base64').slice(0, 40));
    expect(spec).not.toMatch(/PRIVATE KEY/);
    const container = cron.spec?.jobTemplate.spec?.template.spec?.containers[0];
    expect(container?.args).toContain('--sign');
    expect(container?.env ?? []).toEqual([]);
    const secret = await api(k8s.CoreV1Api).readNamespacedSecret({
      name: `kubectl-snapshot-${name}`,
      namespace: ins,
    });
    const stored = Buffer.from(secret.data?.KUBECTL_SNAPSHOT_SIGN_KEY ?? '', 'base64').toString();
    expect(stored).toMatch(/BEGIN PRIVATE KEY/);

    // The container's command with its environment as envFrom builds it from the Secret.
    const secretEnv = Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
    const run = await cli(container?.args ?? [], { ...env, ...secretEnv });
    expect(run.code, run.stderr).toBe(0);
    const snap = /Snapshot (\S+) completed/.exec(run.stdout)?.[1] as string;
    const v = await cli(
      ['verify', snap, '--storage', s3Url(prefix), '--verify-key', alice.pub],
      env,
    );
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain(`signed by ${alice.fingerprint}: signature verified`);
    const described = await cli(['schedule', 'describe', name, '--install-namespace', ins], env);
    expect(described.stdout).toContain(
      `Signing:          signed with the key in Secret ${ins}/kubectl-snapshot-${name}`,
    );
    const dry = await cli([...createArgs, '--dry-run', '-o', 'yaml'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('KUBECTL_SNAPSHOT_SIGN_KEY: <redacted>');
    expect(dry.stdout).not.toContain(body);
    const del = await cli(['schedule', 'delete', name, '--install-namespace', ins], env);
    expect(del.code, del.stderr).toBe(0);
  });
});

describe('stored strings on the terminal', () => {
  it('list and describe print no escape sequence from snapshot.json', async () => {
    const storage = directoryStorage();
    const b = await storage.cli(['backup', 'evil', '-n', ns]);
    expect(b.code, b.stderr).toBe(0);
    const key = 'snapshots/evil/snapshot.json';
    const m = JSON.parse((await storage.readRaw(key)).toString());
    m.labels = { team: '\u001b[2Jwiped' };
    m.namespaces = ['\u001b]0;owned\u0007shop\u009b31m'];
    m.cluster.server = 'https://x\u001b[2J';
    await storage.writeRaw(key, Buffer.from(JSON.stringify(m)));
    for (const args of [['list'], ['describe', 'evil']]) {
      const r = await storage.cli(args);
      expect(r.code, r.stderr).toBe(0);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the test
      expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(r.stdout).toContain('shop');
    }
    expect((await storage.cli(['describe', 'evil'])).stdout).toContain('team=wiped');
    // JSON stays exact (it escapes).
    const j = await storage.cli(['describe', 'evil', '-o', 'json']);
    expect(JSON.parse(j.stdout).labels.team).toBe('\u001b[2Jwiped');
  });
});
