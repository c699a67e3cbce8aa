// Encryption at rest end to end: age-encrypted archives and logs, keys that are right, wrong
// or missing, the standard `age` tool, and locations that insist on encryption.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { beforeAll, describe, expect, it } from 'vitest';
import { configMap, create, namespace, secret } from './fixtures.js';
import { cli, objects, s3Url, tempDir, uniqueName, until } from './helpers.js';

const SECRET_VALUE = 'correct-horse-battery-staple-4711';

async function keyPair(dir: string, name: string): Promise<{ file: string; recipient: string }> {
  const identity = await generateX25519Identity();
  const file = join(dir, `${name}.txt`);
  writeFileSync(file, `# test identity\n${identity}\n`, { mode: 0o600 });
  return { file, recipient: await identityToRecipient(identity) };
}

function snapshotFiles(data: string, name: string): string[] {
  const dir = join(data, 'kubectl-snapshot', 'snapshots', name);
  return readdirSync(dir).map((f) => join(dir, f));
}

async function gone(ns: string): Promise<void> {
  await objects().delete(namespace(ns));
  await until(
    `namespace ${ns} deleted`,
    async () => {
      try {
        await objects().read(namespace(ns) as never);
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    },
    120_000,
    500,
  );
}

describe('encrypted snapshots', () => {
  const data = tempDir('ks-enc-');
  const keys = tempDir('ks-keys-');
  const env = { XDG_DATA_HOME: data, KUBECTL_SNAPSHOT_CONFIG: join(data, 'config.json') };
  const ns = uniqueName('enc');
  let alice: { file: string; recipient: string };
  let mallory: { file: string; recipient: string };

  beforeAll(async () => {
    alice = await keyPair(keys, 'alice');
    mallory = await keyPair(keys, 'mallory');
    await create([
      namespace(ns),
      secret(ns, 'db', { password: SECRET_VALUE }),
      configMap(ns, 'cfg', { a: 'b' }),
    ]);
    const b = await cli(['backup', 'sealed', '-n', ns, '--encrypt-to', alice.recipient], env);
    expect(b.code, b.stderr).toBe(0);
  });

  it('stores no Secret value in plain text, in the archive or the log', () => {
    for (const file of snapshotFiles(data, 'sealed')) {
      const bytes = readFileSync(file);
      expect(bytes.includes(Buffer.from(SECRET_VALUE)), file).toBe(false);
      expect(bytes.includes(Buffer.from(Buffer.from(SECRET_VALUE).toString('base64'))), file).toBe(
        false,
      );
    }
    const manifest = JSON.parse(
      readFileSync(join(data, 'kubectl-snapshot', 'snapshots', 'sealed', 'snapshot.json'), 'utf8'),
    );
    expect(manifest.archive.encrypted).toBe(true);
    expect(manifest.encryption).toEqual({ recipients: [alice.recipient], passphrase: false });
  });

  it('decrypts with the standard age tool into a valid archive', () => {
    const archive = join(data, 'kubectl-snapshot', 'snapshots', 'sealed', 'resources.tar.gz');
    const plain = execFileSync('age', ['-d', '-i', alice.file, archive]);
    const listing = execFileSync('tar', ['-tzf', '-'], { input: plain }).toString();
    expect(listing).toContain(`resources/secrets/namespaces/${ns}/db.json`);
  });

  it('refuses a restore without a key, and with the wrong key, creating nothing', async () => {
    const target = `${ns}-x`;
    const missing = await cli(['restore', 'sealed', '--namespace-mapping', `${ns}=${target}`], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^error: snapshot "sealed" is encrypted and no key was given\n\s+pass --identity-file/,
    );
    const wrong = await cli(
      [
        'restore',
        'sealed',
        '--namespace-mapping',
        `${ns}=${target}`,
        '--identity-file',
        mallory.file,
      ],
      env,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: cannot decrypt snapshot "sealed": no identity matched/);
    await expect(objects().read(namespace(target) as never)).rejects.toMatchObject({ code: 404 });
  });

  it('verifies stored bytes without the key and the contents with it', async () => {
    const without = await cli(['verify', 'sealed'], env);
    expect(without.code).toBe(0);
    expect(without.stdout).toMatch(/stored bytes intact.*encrypted/);
    const withKey = await cli(['verify', 'sealed', '--identity-file', alice.file], env);
    expect(withKey.code).toBe(0);
    expect(withKey.stdout).toMatch(/is intact: \d+ objects/);
  });

  it('round-trips: the namespace comes back from the encrypted snapshot', async () => {
    await gone(ns);
    const r = await cli(['restore', 'sealed', '-o', 'json'], {
      ...env,
      KUBECTL_SNAPSHOT_IDENTITY_FILE: alice.file,
    });
    expect(r.code, r.stderr).toBe(0);
    const s = (await objects().read(secret(ns, 'db', {}) as never)) as {
      data: Record<string, string>;
    };
    expect(Buffer.from(s.data.password as string, 'base64').toString()).toBe(SECRET_VALUE);
  });

  it('round-trips with a passphrase file', async () => {
    const pass = join(keys, 'pass.txt');
    writeFileSync(pass, 'a long and random passphrase\n', { mode: 0o600 });
    expect(
      (await cli(['backup', 'by-pass', '-n', ns, '--encrypt-passphrase-file', pass], env)).code,
    ).toBe(0);
    const target = `${ns}-p`;
    const r = await cli(
      [
        'restore',
        'by-pass',
        '--namespace-mapping',
        `${ns}=${target}`,
        '--passphrase-file',
        pass,
        '-o',
        'json',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(await objects().read(configMap(target, 'cfg') as never)).toBeDefined();
  });

  it('rejects an invalid recipient before anything is written', async () => {
    const r = await cli(['backup', 'bad-key', '-n', ns, '--encrypt-to', 'age1notakey'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: invalid age recipient/);
    expect(() => snapshotFiles(data, 'bad-key')).toThrow();
  });

  it('refuses an unencrypted backup to a location that requires encryption', async () => {
    const loc = await cli(
      ['location', 'add', 'vault', join(data, 'vault'), '--require-encryption'],
      env,
    );
    expect(loc.code, loc.stderr).toBe(0);
    const r = await cli(['backup', 'plain', '-n', ns, '--storage', 'vault'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: storage location "vault" requires encrypted backups/);
    const ok = await cli(
      ['backup', 'sealed2', '-n', ns, '--storage', 'vault', '--encrypt-to', alice.recipient],
      env,
    );
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('warns once when Secrets go unencrypted to remote storage', async () => {
    const r = await cli(
      ['backup', 'plain-s3', '-n', ns, '--storage', s3Url(uniqueName('enc-warn'))],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^warning: 1 Secret\(s\) stored unencrypted in s3:\/\//),
    ]);
  });
});
