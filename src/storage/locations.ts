// Where snapshots live: parsing storage URLs, named locations in the config file, resolving
// --storage / KUBECTL_SNAPSHOT_STORAGE / the default, and opening the matching ObjectStore.
// The minio-based S3 module is imported lazily: commands on a directory never load it.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NotFoundError, UserError } from '../core/errors.js';
import { isDns1123Label } from '../core/names.js';
import { FsStore } from './fs.js';
import type { ObjectStore } from './store.js';

export const DEFAULT_S3_ENDPOINT = 'https://s3.amazonaws.com';

export interface FileLocation {
  kind: 'file';
  /** Absolute directory. */
  dir: string;
}

export interface S3Location {
  kind: 's3';
  bucket: string;
  /** Key prefix inside the bucket without leading or trailing '/'; '' for the bucket root. */
  prefix: string;
  /** Origin such as `https://minio.example.com:9000`; absent for AWS S3. */
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
  /** Absolute path of a PEM CA bundle. */
  caFile?: string;
  insecureSkipTlsVerify?: boolean;
}

export type Location = FileLocation | S3Location;

export type LocationSource = 'flag' | 'env' | 'config' | 'default';

/** A location plus how it was chosen and its display URL (never with credentials). */
export type ResolvedLocation = Location & {
  url: string;
  source: LocationSource;
  /** The named location it came from, if any. */
  name?: string;
  /** The named location refuses unencrypted backups. */
  requireEncryption?: boolean;
};

export interface LocationEntry {
  name: string;
  url: string;
  default: boolean;
  requireEncryption: boolean;
}

const URL_EXAMPLES =
  'valid forms: /abs/dir, ./relative/dir, ~/dir, file:///abs/dir, s3://bucket, ' +
  's3://bucket/prefix?endpoint=https://minio.example.com:9000&region=us-east-1&pathStyle=true&caFile=/path/ca.pem';

const S3_PARAMS = ['endpoint', 'region', 'pathStyle', 'caFile', 'insecureSkipTlsVerify'] as const;

/** Hides anything that looks like URL user info, so an error never echoes a secret. */
function redact(s: string): string {
  return s.replace(/\/\/[^/?#]*@/g, '//***@');
}

function invalid(value: string, why: string): UserError {
  return new UserError(`invalid storage location "${redact(value)}": ${why}`, URL_EXAMPLES);
}

function credentialsInUrl(): UserError {
  return new UserError(
    'credentials in a storage URL are not accepted: they would end up in shell history and process listings',
    'remove "user:secret@" from the URL and set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ' +
      '(or use a profile in ~/.aws/credentials with AWS_PROFILE)',
  );
}

function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

function expandPath(p: string, env: NodeJS.ProcessEnv): string {
  if (p === '~') return homeOf(env);
  if (p.startsWith('~/')) return join(homeOf(env), p.slice(2));
  return resolve(p);
}

/** Percent-encodes the few characters that would change how a URL part parses. */
function encodePart(s: string, extra: RegExp): string {
  return s.replace(extra, (c) => encodeURIComponent(c));
}

/**
 * Parses a storage location: `file:///abs/path`, a bare absolute or relative path (a
 * directory; `~/` is expanded), or `s3://bucket[/prefix][?endpoint=&region=&pathStyle=&caFile=
 * &insecureSkipTlsVerify=]`. Relative paths resolve against the current directory.
 */
export function parseLocationUrl(value: string, env: NodeJS.ProcessEnv = process.env): Location {
  const v = value.trim();
  if (v === '') throw invalid(value, 'empty');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(v)?.[1]?.toLowerCase();
  if (scheme === 's3') return parseS3Url(v, env);
  if (scheme === 'file') return parseFileUrl(v);
  if (scheme !== undefined && (v.includes('://') || scheme.length > 1)) {
    // Windows drive letters aside, "x:" would be a surprising directory name.
    if (/^[^/]*:\/\/[^/?#]*@/.test(v)) throw credentialsInUrl();
    throw invalid(value, `unsupported scheme "${scheme}:"`);
  }
  return { kind: 'file', dir: expandPath(v, env) };
}

function parseFileUrl(v: string): FileLocation {
  if (!v.toLowerCase().startsWith('file://')) {
    throw invalid(v, 'file URLs look like file:///absolute/path');
  }
  if (/^file:\/\/[^/?#]*@/i.test(v)) throw credentialsInUrl();
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw invalid(v, 'not a valid file URL');
  }
  if (url.search !== '' || url.hash !== '') {
    throw invalid(v, 'file URLs take no ?options or #fragment');
  }
  if (url.hostname !== '' && url.hostname !== 'localhost') {
    throw invalid(v, `file URLs cannot name a host ("${url.hostname}"): use file:///absolute/path`);
  }
  let dir: string;
  try {
    dir = fileURLToPath(url);
  } catch (err) {
    throw invalid(v, err instanceof Error ? err.message : String(err));
  }
  return { kind: 'file', dir: resolve(dir) };
}

function parseBool(v: string, param: string, raw: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalid(raw, `${param} must be true or false, not "${v}"`);
}

function parseS3Url(v: string, env: NodeJS.ProcessEnv): S3Location {
  // Checked on the raw text first so a secret is never echoed, whatever else is wrong.
  if (/^s3:\/\/[^/?#]*@/i.test(v)) throw credentialsInUrl();
  if (!/^s3:\/\//i.test(v)) throw invalid(v, 'S3 URLs look like s3://bucket/prefix');
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw invalid(v, 'not a valid URL');
  }
  if (url.username !== '' || url.password !== '') throw credentialsInUrl();
  if (url.hash !== '') throw invalid(v, 'S3 URLs take no #fragment');
  if (url.port !== '') {
    throw invalid(v, 'put the server in ?endpoint=https://host:port, not in the bucket part');
  }
  const bucket = url.hostname;
  if (bucket === '') throw invalid(v, 'no bucket: use s3://bucket or s3://bucket/prefix');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
    throw invalid(
      v,
      `"${bucket}" is not a valid bucket name (3-63 lowercase letters, digits, '.' and '-')`,
    );
  }

  // The raw path, not url.pathname: URL parsing silently resolves '..' and '.' segments.
  const rawPath = /^s3:\/\/[^/?#]*([^?#]*)/i.exec(v)?.[1] ?? '';
  const segments = rawPath
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw invalid(v, 'bad percent-encoding in the prefix');
      }
    });
  for (const s of segments) {
    if (s === '.' || s === '..' || s.includes('/') || s.includes('\\')) {
      throw invalid(v, `the prefix may not contain "${s}" segments`);
    }
  }
  const loc: S3Location = { kind: 's3', bucket, prefix: segments.join('/') };

  const params = url.searchParams;
  for (const key of new Set(params.keys())) {
    if (!(S3_PARAMS as readonly string[]).includes(key)) {
      throw invalid(v, `unknown option "${key}" (known: ${S3_PARAMS.join(', ')})`);
    }
    if (params.getAll(key).length > 1) throw invalid(v, `option "${key}" given twice`);
  }
  const endpoint = params.get('endpoint');
  if (endpoint !== null) loc.endpoint = parseEndpoint(endpoint, v);
  const region = params.get('region');
  if (region !== null) {
    if (!/^[a-z0-9][a-z0-9-]*$/i.test(region)) throw invalid(v, `invalid region "${region}"`);
    loc.region = region;
  }
  const pathStyle = params.get('pathStyle');
  if (pathStyle !== null) loc.pathStyle = parseBool(pathStyle, 'pathStyle', v);
  const caFile = params.get('caFile');
  if (caFile !== null) {
    if (caFile === '') throw invalid(v, 'caFile is empty');
    loc.caFile = expandPath(caFile, env);
  }
  const insecure = params.get('insecureSkipTlsVerify');
  if (insecure !== null && parseBool(insecure, 'insecureSkipTlsVerify', v)) {
    loc.insecureSkipTlsVerify = true;
  }
  return loc;
}

function parseEndpoint(endpoint: string, raw: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(endpoint)) throw credentialsInUrl();
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    throw invalid(raw, `endpoint must be a URL such as https://host:port, not "${endpoint}"`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw invalid(raw, 'endpoint must start with https:// or http://');
  }
  if (u.username !== '' || u.password !== '') throw credentialsInUrl();
  if ((u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.hash !== '') {
    throw invalid(raw, 'endpoint must be just scheme://host[:port], without a path');
  }
  return u.origin === DEFAULT_S3_ENDPOINT ? undefined : u.origin;
}

/** The canonical URL of an S3 location: parseable by parseLocationUrl, without credentials. */
export function formatS3Url(loc: Omit<S3Location, 'kind'>): string {
  const prefix = loc.prefix.replace(/^\/+|\/+$/g, '');
  let url = `s3://${loc.bucket}`;
  if (prefix !== '') {
    url += `/${prefix
      .split('/')
      .map((s) => encodePart(s, /[%?#\s]/g))
      .join('/')}`;
  }
  const q: string[] = [];
  const value = (s: string) => encodePart(s, /[%&#+\s]/g);
  if (loc.endpoint !== undefined) {
    const origin = new URL(loc.endpoint).origin;
    if (origin !== DEFAULT_S3_ENDPOINT) q.push(`endpoint=${value(origin)}`);
  }
  if (loc.region) q.push(`region=${value(loc.region)}`);
  if (loc.pathStyle !== undefined) q.push(`pathStyle=${loc.pathStyle}`);
  if (loc.caFile) q.push(`caFile=${value(loc.caFile)}`);
  if (loc.insecureSkipTlsVerify) q.push('insecureSkipTlsVerify=true');
  return q.length > 0 ? `${url}?${q.join('&')}` : url;
}

/** The canonical display URL of a location. */
export function locationUrl(loc: Location): string {
  return loc.kind === 'file' ? pathToFileURL(loc.dir).href : formatS3Url(loc);
}

// ---- named locations -------------------------------------------------------------------

interface StoredLocation {
  url: string;
  default?: boolean;
  requireEncryption?: boolean;
}

interface ConfigFile {
  locations?: Record<string, StoredLocation>;
  [key: string]: unknown;
}

function xdgDir(env: NodeJS.ProcessEnv, variable: string, fallback: string): string {
  const v = env[variable];
  // The XDG spec says relative values are invalid and must be ignored.
  return v && isAbsolute(v) ? v : join(homeOf(env), fallback);
}

/** `$KUBECTL_SNAPSHOT_CONFIG` or `${XDG_CONFIG_HOME:-~/.config}/kubectl-snapshot/config.json`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBECTL_SNAPSHOT_CONFIG) return resolve(env.KUBECTL_SNAPSHOT_CONFIG);
  return join(xdgDir(env, 'XDG_CONFIG_HOME', '.config'), 'kubectl-snapshot', 'config.json');
}

/** `${XDG_DATA_HOME:-~/.local/share}/kubectl-snapshot`: where snapshots go by default. */
export function defaultStorageDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(xdgDir(env, 'XDG_DATA_HOME', join('.local', 'share')), 'kubectl-snapshot');
}

async function readConfig(env: NodeJS.ProcessEnv): Promise<ConfigFile> {
  const path = configPath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UserError(
      `cannot read the config file ${path}: ${(err as Error).message}`,
      'check its permissions, or point KUBECTL_SNAPSHOT_CONFIG at another file',
    );
  }
  const broken = (why: string) =>
    new UserError(
      `the config file ${path} is not valid: ${why}`,
      'fix or remove it; it should look like {"locations": {"<name>": {"url": "s3://bucket/prefix"}}}',
    );
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw broken((err as Error).message);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw broken('not a JSON object');
  }
  const cfg = data as ConfigFile;
  if (cfg.locations !== undefined) {
    if (typeof cfg.locations !== 'object' || cfg.locations === null) {
      throw broken('"locations" is not an object');
    }
    for (const [name, entry] of Object.entries(cfg.locations)) {
      if (typeof entry !== 'object' || entry === null || typeof entry.url !== 'string') {
        throw broken(`location "${name}" has no "url"`);
      }
    }
  }
  return cfg;
}

/** Writes the config atomically (temp file + rename), mode 0600, directory 0700. */
async function writeConfig(env: NodeJS.ProcessEnv, cfg: ConfigFile): Promise<void> {
  const path = configPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(cfg, null, 2)}\n`);
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

function validateLocationName(name: string): void {
  if (!isDns1123Label(name)) {
    throw new UserError(
      `invalid location name "${name}"`,
      "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
    );
  }
}

export interface AddLocationOptions {
  /** Make it the default location (clearing any other default). */
  default?: boolean;
  /** Replace an existing location of that name. */
  overwrite?: boolean;
  /** Backups to this location must be encrypted (--encrypt-to or --encrypt-passphrase-file). */
  requireEncryption?: boolean;
}

/** Saves a named location; the URL is validated and stored in canonical (absolute) form. */
export async function addLocation(
  name: string,
  url: string,
  opts: AddLocationOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocationEntry> {
  validateLocationName(name);
  const canonical = locationUrl(parseLocationUrl(url, env));
  const cfg = await readConfig(env);
  const locations = { ...(cfg.locations ?? {}) };
  const existing = locations[name];
  if (existing && !opts.overwrite) {
    throw new UserError(
      `a storage location named "${name}" already exists (${existing.url})`,
      'remove it first, or overwrite it',
    );
  }
  const isDefault = opts.default ?? existing?.default ?? false;
  if (isDefault) {
    for (const [n, e] of Object.entries(locations)) {
      if (n !== name && e.default) locations[n] = { ...e, default: undefined };
    }
  }
  const requireEncryption = opts.requireEncryption ?? existing?.requireEncryption ?? false;
  locations[name] = {
    url: canonical,
    ...(isDefault ? { default: true } : {}),
    ...(requireEncryption ? { requireEncryption: true } : {}),
  };
  await writeConfig(env, { ...cfg, locations });
  return { name, url: canonical, default: isDefault, requireEncryption };
}

/** Every named location, sorted by name. */
export async function listLocations(
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocationEntry[]> {
  const cfg = await readConfig(env);
  return Object.entries(cfg.locations ?? {})
    .map(([name, e]) => ({
      name,
      url: e.url,
      default: e.default === true,
      requireEncryption: e.requireEncryption === true,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function noSuchLocation(name: string, env: NodeJS.ProcessEnv): NotFoundError {
  return new NotFoundError(
    `storage location "${name}"`,
    `see the saved locations with "kubectl snapshot location list" (config file ${configPath(env)})`,
  );
}

export async function removeLocation(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const cfg = await readConfig(env);
  if (!cfg.locations || !Object.hasOwn(cfg.locations, name)) throw noSuchLocation(name, env);
  const locations = { ...cfg.locations };
  delete locations[name];
  await writeConfig(env, { ...cfg, locations });
}

/** Makes `name` the default location; `undefined` clears the default. */
export async function setDefaultLocation(
  name: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const cfg = await readConfig(env);
  const locations = { ...(cfg.locations ?? {}) };
  if (name !== undefined && !Object.hasOwn(locations, name)) throw noSuchLocation(name, env);
  for (const [n, e] of Object.entries(locations)) {
    locations[n] = { ...e, default: n === name ? true : undefined };
  }
  await writeConfig(env, { ...cfg, locations });
}

// ---- resolution ------------------------------------------------------------------------

function fromNamed(
  name: string,
  entry: StoredLocation,
  source: LocationSource,
  env: NodeJS.ProcessEnv,
): ResolvedLocation {
  const url = entry.url;
  let loc: Location;
  try {
    loc = parseLocationUrl(url, env);
  } catch (err) {
    if (err instanceof UserError) {
      throw new UserError(
        `storage location "${name}" in ${configPath(env)}: ${err.message}`,
        err.hint,
      );
    }
    throw err;
  }
  return {
    ...loc,
    url: locationUrl(loc),
    source,
    name,
    ...(entry.requireEncryption ? { requireEncryption: true } : {}),
  };
}

async function resolveValue(
  value: string,
  source: LocationSource,
  env: NodeJS.ProcessEnv,
): Promise<ResolvedLocation> {
  const v = value.trim();
  // A bare word is a location name. A typo must not silently become a new directory in the
  // current directory, so an unknown bare word is an error; ./name means the directory.
  if (isDns1123Label(v)) {
    const entry = (await readConfig(env)).locations?.[v];
    if (entry) return fromNamed(v, entry, source, env);
    throw new UserError(
      `no storage location named "${v}"`,
      `see the saved locations with "kubectl snapshot location list"; for a directory named ${v} here, write ./${v}`,
    );
  }
  const loc = parseLocationUrl(v, env);
  return { ...loc, url: locationUrl(loc), source };
}

/**
 * Picks the storage location: the --storage flag, else KUBECTL_SNAPSHOT_STORAGE, else the
 * default named location, else `${XDG_DATA_HOME:-~/.local/share}/kubectl-snapshot`. The flag
 * and the variable may hold a location name or a URL/path.
 */
export async function resolveLocation(
  flag?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedLocation> {
  if (flag !== undefined) {
    if (flag.trim() === '') {
      throw new UserError('--storage is empty', 'give a location name, a directory or a URL');
    }
    return resolveValue(flag, 'flag', env);
  }
  const fromEnv = env.KUBECTL_SNAPSHOT_STORAGE;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return resolveValue(fromEnv, 'env', env);
  const cfg = await readConfig(env);
  const def = Object.entries(cfg.locations ?? {}).find(([, e]) => e.default === true);
  if (def) return fromNamed(def[0], def[1], 'config', env);
  const dir = defaultStorageDir(env);
  return { kind: 'file', dir, url: pathToFileURL(dir).href, source: 'default' };
}

/** Opens the store for a location. S3 credentials come from the environment or AWS files. */
export async function openStore(
  loc: Location,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ObjectStore> {
  if (loc.kind === 'file') return new FsStore(loc.dir);
  const { S3Store, s3CredentialsFromEnv } = await import('./s3.js');
  return new S3Store({
    bucket: loc.bucket,
    prefix: loc.prefix,
    endpoint: loc.endpoint,
    region: loc.region,
    pathStyle: loc.pathStyle,
    caFile: loc.caFile,
    insecureSkipTlsVerify: loc.insecureSkipTlsVerify,
    credentials: s3CredentialsFromEnv(env),
  });
}
