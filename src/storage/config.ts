// The config file of named locations (`kubectl snapshot location add/list/remove`) and the
// XDG directories: where the file and the default storage directory are.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { NotFoundError, UserError } from '../core/errors.js';
import { homeDir } from '../core/home.js';
import { isDns1123Label } from '../core/names.js';
import { locationUrl, parseLocationUrl } from './location-url.js';

export interface LocationEntry {
  name: string;
  url: string;
  default: boolean;
  requireEncryption: boolean;
  /** PEM of the Ed25519 public key every snapshot read from here must be signed by. */
  verifyKey?: string;
}

export interface StoredLocation {
  url: string;
  default?: boolean;
  requireEncryption?: boolean;
  verifyKey?: string;
}

interface ConfigFile {
  locations?: Record<string, StoredLocation>;
  [key: string]: unknown;
}

function xdgDir(env: NodeJS.ProcessEnv, variable: string, fallback: string): string {
  const v = env[variable];
  // The XDG spec says relative values are invalid and must be ignored.
  return v && isAbsolute(v) ? v : join(homeDir(env), fallback);
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

export async function readConfig(env: NodeJS.ProcessEnv): Promise<ConfigFile> {
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
      if (entry.verifyKey !== undefined && typeof entry.verifyKey !== 'string')
        throw broken(`location "${name}": "verifyKey" is not a PEM string`);
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

export function validateLocationName(name: string): void {
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
  /**
   * PEM of an Ed25519 public key: restore, diff and verify from this location refuse a
   * snapshot not signed by it, and backups to it must be signed.
   */
  verifyKey?: string;
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
  const verifyKey = opts.verifyKey ?? existing?.verifyKey;
  locations[name] = {
    url: canonical,
    ...(isDefault ? { default: true } : {}),
    ...(requireEncryption ? { requireEncryption: true } : {}),
    ...(verifyKey !== undefined ? { verifyKey } : {}),
  };
  await writeConfig(env, { ...cfg, locations });
  return {
    name,
    url: canonical,
    default: isDefault,
    requireEncryption,
    ...(verifyKey !== undefined ? { verifyKey } : {}),
  };
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
      ...(e.verifyKey !== undefined ? { verifyKey: e.verifyKey } : {}),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function removeLocation(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const cfg = await readConfig(env);
  if (!cfg.locations || !Object.hasOwn(cfg.locations, name)) {
    throw new NotFoundError(
      `storage location "${name}"`,
      `see the saved locations with "kubectl snapshot location list" (config file ${configPath(env)})`,
    );
  }
  const locations = { ...cfg.locations };
  delete locations[name];
  await writeConfig(env, { ...cfg, locations });
}
