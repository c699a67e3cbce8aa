// Which storage a command uses: resolving --storage / KUBECTL_SNAPSHOT_STORAGE / the default
// named location / the default directory, and opening the matching ObjectStore. The
// minio-based S3 module is imported lazily: commands on a directory never load it.
import { UserError } from '../core/errors.js';
import { isDns1123Label } from '../core/names.js';
import { configPath, defaultStorageDir, readConfig, type StoredLocation } from './config.js';
import { FsStore } from './fs.js';
import { type Location, locationUrl, parseLocationUrl } from './location-url.js';
import { s3CredentialsFromEnv } from './s3-credentials.js';
import type { ObjectStore } from './store.js';

export type LocationSource = 'flag' | 'env' | 'config' | 'default';

/** A location plus how it was chosen and its display URL (never with credentials). */
export type ResolvedLocation = Location & {
  url: string;
  source: LocationSource;
  /** The named location it came from, if any. */
  name?: string;
  /** The named location refuses unencrypted backups. */
  requireEncryption?: boolean;
  /** The named location requires snapshots signed by this Ed25519 public key (PEM). */
  verifyKey?: string;
};

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
    ...(entry.verifyKey !== undefined ? { verifyKey: entry.verifyKey } : {}),
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
  return { kind: 'file', dir, url: locationUrl({ kind: 'file', dir }), source: 'default' };
}

/**
 * Opens the store for a location. S3 credentials come from the environment or AWS files;
 * `requestTimeoutMs` is --request-timeout (S3StoreOptions.idleTimeoutMs).
 */
export async function openStore(
  loc: Location,
  env: NodeJS.ProcessEnv = process.env,
  requestTimeoutMs?: number,
): Promise<ObjectStore> {
  if (loc.kind === 'file') return new FsStore(loc.dir);
  const { S3Store } = await import('./s3.js');
  return new S3Store({
    bucket: loc.bucket,
    prefix: loc.prefix,
    endpoint: loc.endpoint,
    region: loc.region,
    pathStyle: loc.pathStyle,
    caFile: loc.caFile,
    insecureSkipTlsVerify: loc.insecureSkipTlsVerify,
    credentials: s3CredentialsFromEnv(env),
    ...(requestTimeoutMs !== undefined ? { idleTimeoutMs: requestTimeoutMs } : {}),
  });
}
