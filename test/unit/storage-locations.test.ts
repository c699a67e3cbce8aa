import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, UserError } from '../../src/core/errors.js';
import {
  addLocation,
  configPath,
  defaultStorageDir,
  listLocations,
  removeLocation,
} from '../../src/storage/config.js';
import { FsStore } from '../../src/storage/fs.js';
import { type Location, locationUrl, parseLocationUrl } from '../../src/storage/location-url.js';
import { openStore, resolveLocation } from '../../src/storage/locations.js';
import { formatS3Url, type S3Location } from '../../src/storage/s3-location.js';
import { userError } from './user-error.js';

describe('parseLocationUrl', () => {
  it('reads a file:// URL as its directory, decoding percent-escapes', () => {
    expect(parseLocationUrl('file:///var/backups')).toEqual({ kind: 'file', dir: '/var/backups' });
    expect(parseLocationUrl('file:///tmp/with%20space/')).toEqual({
      kind: 'file',
      dir: '/tmp/with space',
    });
    expect(parseLocationUrl('file://localhost/srv/x')).toEqual({ kind: 'file', dir: '/srv/x' });
  });

  it('reads bare absolute, relative and ~ paths as directories', () => {
    expect(parseLocationUrl('/abs/dir')).toEqual({ kind: 'file', dir: '/abs/dir' });
    expect(parseLocationUrl('./rel/dir')).toEqual({ kind: 'file', dir: resolve('rel/dir') });
    expect(parseLocationUrl('rel')).toEqual({ kind: 'file', dir: resolve('rel') });
    expect(parseLocationUrl('~/snaps', { HOME: '/home/u' })).toEqual({
      kind: 'file',
      dir: '/home/u/snaps',
    });
  });

  it('reads s3://bucket with an empty prefix and s3://bucket/prefix/ without slashes', () => {
    expect(parseLocationUrl('s3://my-bucket')).toEqual({
      kind: 's3',
      bucket: 'my-bucket',
      prefix: '',
    });
    expect(parseLocationUrl('s3://my-bucket/')).toEqual({
      kind: 's3',
      bucket: 'my-bucket',
      prefix: '',
    });
    expect(parseLocationUrl('s3://my.bucket/team/prod/')).toEqual({
      kind: 's3',
      bucket: 'my.bucket',
      prefix: 'team/prod',
    });
  });

  it('reads every S3 option from the query string', () => {
    expect(
      parseLocationUrl(
        's3://b01/p?endpoint=https://minio.example.com:9000&region=eu-west-1&pathStyle=false&caFile=/etc/ca.pem&insecureSkipTlsVerify=true',
      ),
    ).toEqual({
      kind: 's3',
      bucket: 'b01',
      prefix: 'p',
      endpoint: 'https://minio.example.com:9000',
      region: 'eu-west-1',
      pathStyle: false,
      caFile: '/etc/ca.pem',
      insecureSkipTlsVerify: true,
    });
  });

  it('normalises the endpoint to its origin and drops the AWS default', () => {
    const loc = parseLocationUrl('s3://bkt?endpoint=HTTP://127.0.0.1:9000/') as S3Location;
    expect(loc.endpoint).toBe('http://127.0.0.1:9000');
    const aws = parseLocationUrl('s3://bkt?endpoint=https://s3.amazonaws.com') as S3Location;
    expect(aws.endpoint).toBeUndefined();
  });

  it('resolves a relative caFile against the current directory', () => {
    const loc = parseLocationUrl('s3://bkt?caFile=certs/ca.pem') as S3Location;
    expect(loc.caFile).toBe(resolve('certs/ca.pem'));
  });

  it('round-trips S3 locations through their canonical URL', () => {
    const locs: S3Location[] = [
      { kind: 's3', bucket: 'bkt', prefix: '' },
      { kind: 's3', bucket: 'bkt', prefix: 'a b/c+d', region: 'us-east-1' },
      {
        kind: 's3',
        bucket: 'bkt',
        prefix: 'x',
        endpoint: 'http://127.0.0.1:9000',
        pathStyle: true,
        caFile: '/etc/my ca+1&2.pem',
        insecureSkipTlsVerify: true,
      },
    ];
    for (const loc of locs) {
      expect(parseLocationUrl(formatS3Url(loc))).toEqual(loc);
    }
    expect(formatS3Url({ bucket: 'bkt', prefix: 'p', endpoint: 'http://127.0.0.1:9000' })).toBe(
      's3://bkt/p?endpoint=http://127.0.0.1:9000',
    );
  });

  it('gives file locations a file:// display URL', () => {
    expect(locationUrl({ kind: 'file', dir: '/var/x y' })).toBe('file:///var/x%20y');
  });

  it('rejects other forms with examples of valid ones', () => {
    const cases = [
      '',
      'http://example.com/x',
      'gs://bucket',
      's3:bucket',
      's3://',
      's3:///prefix',
      's3://Bad_Bucket/x',
      's3://ab',
      's3://bkt:9000/x',
      's3://bkt/x?color=blue',
      's3://bkt/x?pathStyle=maybe',
      's3://bkt/x?insecureSkipTlsVerify=yes',
      's3://bkt/x?region=us-east-1&region=eu-west-1',
      's3://bkt/x?endpoint=ftp://host',
      's3://bkt/x?endpoint=host:9000',
      's3://bkt/x?endpoint=https://host/path',
      's3://bkt/x?region=bad region',
      's3://bkt/x/../y',
      's3://bkt/x#frag',
      'file://otherhost/x',
      'file:///x?y=1',
      'file:relative',
    ];
    for (const c of cases) {
      const err = userError(() => parseLocationUrl(c));
      expect(err.hint, c).toContain('s3://bucket/prefix');
    }
  });

  it('rejects credentials embedded in a URL without echoing the secret', () => {
    for (const c of [
      's3://AKIAEXAMPLE:TopSecret123@bucket/prefix',
      's3://AKIAEXAMPLE@bucket',
      's3://bkt/p?endpoint=https://AKIAEXAMPLE:TopSecret123@minio:9000',
      'https://AKIAEXAMPLE:TopSecret123@minio:9000/bkt',
      'file://user:TopSecret123@/x',
    ]) {
      const err = userError(() => parseLocationUrl(c));
      expect(err.message, c).not.toContain('TopSecret123');
      expect(err.message, c).not.toContain('AKIAEXAMPLE');
      if (!c.startsWith('https')) {
        expect(err.message).toMatch(/credentials/);
        expect(err.hint).toContain('AWS_ACCESS_KEY_ID');
      }
    }
  });
});

describe('named locations', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'locations-'));
    env = {
      HOME: join(dir, 'home'),
      KUBECTL_SNAPSHOT_CONFIG: join(dir, 'conf', 'nested', 'config.json'),
    };
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the config file via KUBECTL_SNAPSHOT_CONFIG, XDG_CONFIG_HOME or ~/.config', () => {
    expect(configPath({ KUBECTL_SNAPSHOT_CONFIG: '/x/c.json' })).toBe('/x/c.json');
    expect(configPath({ XDG_CONFIG_HOME: '/xdg', HOME: '/h' })).toBe(
      '/xdg/kubectl-snapshot/config.json',
    );
    expect(configPath({ HOME: '/h' })).toBe('/h/.config/kubectl-snapshot/config.json');
    expect(configPath({ HOME: '/h', XDG_CONFIG_HOME: 'relative' })).toBe(
      '/h/.config/kubectl-snapshot/config.json',
    );
  });

  it('lists nothing when there is no config file', async () => {
    expect(await listLocations(env)).toEqual([]);
  });

  it('adds locations in canonical form and lists them sorted by name', async () => {
    await addLocation('zeta', 's3://bkt/team?region=us-east-1', {}, env);
    const added = await addLocation('alpha', './local-snaps', {}, env);
    expect(added).toEqual({
      name: 'alpha',
      url: `file://${resolve('local-snaps')}`,
      default: false,
      requireEncryption: false,
    });
    expect(await listLocations(env)).toEqual([
      {
        name: 'alpha',
        url: `file://${resolve('local-snaps')}`,
        default: false,
        requireEncryption: false,
      },
      {
        name: 'zeta',
        url: 's3://bkt/team?region=us-east-1',
        default: false,
        requireEncryption: false,
      },
    ]);
  });

  it('writes the config file 0600 in a 0700 directory', async () => {
    await addLocation('a', '/srv/snaps', {}, env);
    const path = env.KUBECTL_SNAPSHOT_CONFIG as string;
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'conf', 'nested'))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      locations: { a: { url: 'file:///srv/snaps' } },
    });
  });

  it('refuses to replace an existing name unless asked to overwrite', async () => {
    await addLocation('prod', 's3://one', {}, env);
    await expect(addLocation('prod', 's3://two', {}, env)).rejects.toThrow(/already exists/);
    await addLocation('prod', 's3://two', { overwrite: true }, env);
    expect((await listLocations(env))[0]?.url).toBe('s3://two');
  });

  it('validates the name and the URL before saving anything', async () => {
    await expect(addLocation('Bad Name', 's3://bkt', {}, env)).rejects.toThrow(UserError);
    await expect(addLocation('ok', 'gs://bkt', {}, env)).rejects.toThrow(UserError);
    await expect(addLocation('ok', 's3://k:s@bkt', {}, env)).rejects.toThrow(/credentials/);
    expect(await listLocations(env)).toEqual([]);
  });

  it('keeps a single default: a new default replaces the previous one', async () => {
    await addLocation('a', 's3://aaa', { default: true }, env);
    await addLocation('b', 's3://bbb', { default: true }, env);
    await addLocation('c', 's3://ccc', {}, env);
    expect((await listLocations(env)).map((l) => [l.name, l.default])).toEqual([
      ['a', false],
      ['b', true],
      ['c', false],
    ]);
  });

  it('remembers that a location requires encryption, and resolves it with that flag', async () => {
    await addLocation('vault', 's3://bkt/secure', { requireEncryption: true, default: true }, env);
    expect((await listLocations(env))[0]?.requireEncryption).toBe(true);
    expect((await resolveLocation(undefined, env)).requireEncryption).toBe(true);
    expect((await resolveLocation('vault', env)).requireEncryption).toBe(true);
  });

  it('keeps the default flag when overwriting a location without saying otherwise', async () => {
    await addLocation('a', 's3://aaa', { default: true }, env);
    await addLocation('a', 's3://aab', { overwrite: true }, env);
    expect(await listLocations(env)).toEqual([
      { name: 'a', url: 's3://aab', default: true, requireEncryption: false },
    ]);
  });

  it('removes a location, and reports a missing one as not found', async () => {
    await addLocation('a', 's3://aaa', {}, env);
    await addLocation('b', 's3://bbb', {}, env);
    await removeLocation('a', env);
    expect((await listLocations(env)).map((l) => l.name)).toEqual(['b']);
    await expect(removeLocation('a', env)).rejects.toThrow(NotFoundError);
    await expect(removeLocation('a', env)).rejects.toThrow(/storage location "a"/);
  });

  it('preserves other settings in the config file', async () => {
    const path = env.KUBECTL_SNAPSHOT_CONFIG as string;
    await addLocation('a', 's3://aaa', {}, env);
    const cfg = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...cfg, other: { keep: 1 } }));
    await addLocation('b', 's3://bbb', {}, env);
    expect(JSON.parse(await readFile(path, 'utf8')).other).toEqual({ keep: 1 });
  });

  it('reports a broken config file as a UserError naming it', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{ not json');
    const e = { ...env, KUBECTL_SNAPSHOT_CONFIG: path };
    await expect(listLocations(e)).rejects.toThrow(UserError);
    await expect(listLocations(e)).rejects.toThrow(path);
    await writeFile(path, JSON.stringify({ locations: { a: { nourl: true } } }));
    await expect(listLocations(e)).rejects.toThrow(/location "a" has no "url"/);
  });
});

describe('resolveLocation', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'resolve-'));
    env = { HOME: join(dir, 'home'), KUBECTL_SNAPSHOT_CONFIG: join(dir, 'config.json') };
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('defaults to ~/.local/share/kubectl-snapshot, or under XDG_DATA_HOME', async () => {
    expect(await resolveLocation(undefined, env)).toEqual({
      kind: 'file',
      dir: join(dir, 'home', '.local', 'share', 'kubectl-snapshot'),
      url: `file://${join(dir, 'home', '.local', 'share', 'kubectl-snapshot')}`,
      source: 'default',
    });
    expect(defaultStorageDir({ XDG_DATA_HOME: '/data', HOME: '/h' })).toBe(
      '/data/kubectl-snapshot',
    );
  });

  it('prefers the default named location over the default directory', async () => {
    await addLocation('main', 's3://bkt/p', { default: true }, env);
    expect(await resolveLocation(undefined, env)).toMatchObject({
      kind: 's3',
      bucket: 'bkt',
      prefix: 'p',
      url: 's3://bkt/p',
      source: 'config',
      name: 'main',
    });
  });

  it('prefers KUBECTL_SNAPSHOT_STORAGE over the default location', async () => {
    await addLocation('main', 's3://bkt/p', { default: true }, env);
    const r = await resolveLocation(undefined, { ...env, KUBECTL_SNAPSHOT_STORAGE: '/srv/env' });
    expect(r).toMatchObject({ kind: 'file', dir: '/srv/env', source: 'env' });
  });

  it('prefers the --storage flag over everything else', async () => {
    await addLocation('main', 's3://bkt/p', { default: true }, env);
    const r = await resolveLocation('s3://other/q', {
      ...env,
      KUBECTL_SNAPSHOT_STORAGE: '/srv/env',
    });
    expect(r).toMatchObject({ kind: 's3', bucket: 'other', prefix: 'q', source: 'flag' });
  });

  it('accepts a location name in the flag or the variable', async () => {
    await addLocation('backup-site', 's3://site/x?endpoint=http://10.0.0.1:9000', {}, env);
    expect(await resolveLocation('backup-site', env)).toMatchObject({
      kind: 's3',
      bucket: 'site',
      endpoint: 'http://10.0.0.1:9000',
      source: 'flag',
      name: 'backup-site',
    });
    expect(
      await resolveLocation(undefined, { ...env, KUBECTL_SNAPSHOT_STORAGE: 'backup-site' }),
    ).toMatchObject({ bucket: 'site', source: 'env', name: 'backup-site' });
  });

  it('refuses an unknown bare name instead of silently making a directory, but takes ./name', async () => {
    await expect(resolveLocation('prdo', env)).rejects.toThrow(/no storage location named "prdo"/);
    expect(await resolveLocation('./prdo', env)).toMatchObject({
      kind: 'file',
      dir: resolve('prdo'),
    });
  });

  it('refuses an empty --storage', async () => {
    await expect(resolveLocation('  ', env)).rejects.toThrow(UserError);
  });

  it('names the config file when a saved location URL is broken', async () => {
    await writeFile(
      env.KUBECTL_SNAPSHOT_CONFIG as string,
      JSON.stringify({ locations: { bad: { url: 'gs://x', default: true } } }),
    );
    await expect(resolveLocation(undefined, env)).rejects.toThrow(/storage location "bad" in/);
  });
});

describe('openStore', () => {
  it('opens a directory as an FsStore', async () => {
    const store = await openStore({ kind: 'file', dir: '/tmp/some-dir' });
    expect(store).toBeInstanceOf(FsStore);
    expect(store.url).toBe('file:///tmp/some-dir');
  });

  it('opens an S3 location with credentials from the environment, never showing them', async () => {
    const loc: Location = {
      kind: 's3',
      bucket: 'bkt',
      prefix: 'p',
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
    };
    const store = await openStore(loc, {
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'TopSecret123',
    });
    expect(store.url).toBe('s3://bkt/p?endpoint=http://127.0.0.1:9&region=us-east-1');
    expect(store.constructor.name).toBe('S3Store');
  });

  it('fails with a UserError when an S3 location has no credentials', async () => {
    const loc: Location = { kind: 's3', bucket: 'bkt', prefix: '' };
    await expect(
      openStore(loc, { HOME: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/creds' }),
    ).rejects.toThrow(/no S3 credentials found/);
  });
});
