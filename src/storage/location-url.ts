// Storage URLs: what `--storage` and a named location's url may say, parsed into a Location,
// and the canonical URL that is shown and saved. Pure: no files, no network.
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UserError } from '../core/errors.js';
import { homeDir } from '../core/home.js';
import {
  checkS3Endpoint,
  DEFAULT_S3_ENDPOINT,
  formatS3Url,
  type S3Location,
  type StorageLayout,
} from './s3-location.js';

export type { StorageLayout } from './s3-location.js';

export interface FileLocation {
  kind: 'file';
  /** Absolute directory. */
  dir: string;
  layout?: StorageLayout;
}

export type Location = FileLocation | S3Location;

const URL_EXAMPLES =
  'valid forms: /abs/dir, ./relative/dir, ~/dir, file:///abs/dir, s3://bucket, ' +
  's3://bucket/prefix?endpoint=https://minio.example.com:9000&region=us-east-1&pathStyle=true&caFile=/path/ca.pem; ' +
  'add ?layout=velero (file:///dir?layout=velero) for a Velero backup storage location';

const S3_PARAMS = [
  'endpoint',
  'region',
  'pathStyle',
  'caFile',
  'insecureSkipTlsVerify',
  'layout',
] as const;

/** `layout=velero`: the location holds Velero's backups (`<prefix>/backups/<name>/…`). */
function parseLayout(v: string, raw: string): StorageLayout {
  if (v === 'velero') return v;
  throw invalid(raw, `layout must be velero (or left out for ours), not "${v}"`);
}

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

function expandPath(p: string, env: NodeJS.ProcessEnv): string {
  if (p === '~') return homeDir(env);
  if (p.startsWith('~/')) return join(homeDir(env), p.slice(2));
  return resolve(p);
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
  const params = [...url.searchParams.keys()];
  if (url.hash !== '' || params.some((k) => k !== 'layout') || params.length > 1) {
    throw invalid(v, 'file URLs take no #fragment and no ?options but layout=velero');
  }
  const layout = url.searchParams.get('layout');
  url.search = '';
  if (url.hostname !== '' && url.hostname !== 'localhost') {
    throw invalid(v, `file URLs cannot name a host ("${url.hostname}"): use file:///absolute/path`);
  }
  let dir: string;
  try {
    dir = fileURLToPath(url);
  } catch (err) {
    throw invalid(v, err instanceof Error ? err.message : String(err));
  }
  return {
    kind: 'file',
    dir: resolve(dir),
    ...(layout !== null ? { layout: parseLayout(layout, v) } : {}),
  };
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
  const layout = params.get('layout');
  if (layout !== null) loc.layout = parseLayout(layout, v);
  const insecure = params.get('insecureSkipTlsVerify');
  if (insecure !== null && parseBool(insecure, 'insecureSkipTlsVerify', v)) {
    loc.insecureSkipTlsVerify = true;
  }
  return loc;
}

function parseEndpoint(endpoint: string, raw: string): string | undefined {
  const checked = checkS3Endpoint(endpoint);
  if (!checked.ok) throw checked.credentials ? credentialsInUrl() : invalid(raw, checked.why);
  const origin = checked.url.origin;
  return origin === DEFAULT_S3_ENDPOINT ? undefined : origin;
}

/** The canonical display URL of a location. */
export function locationUrl(loc: Location): string {
  if (loc.kind === 's3') return formatS3Url(loc);
  const href = pathToFileURL(loc.dir).href;
  return loc.layout ? `${href}?layout=${loc.layout}` : href;
}
