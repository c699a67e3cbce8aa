// What an s3:// storage location is and how it is written: the one place for the endpoint
// rule and the prefix form, shared by the URL parser (location-url.ts) and S3Store (s3.ts).

export const DEFAULT_S3_ENDPOINT = 'https://s3.amazonaws.com';

/** Whose layout a location holds: ours when absent, or Velero's backup storage location's. */
export type StorageLayout = 'velero';

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
  layout?: StorageLayout;
}

/** A prefix without its leading and trailing '/'. */
export function trimPrefix(prefix: string): string {
  return prefix.replace(/^\/+|\/+$/g, '');
}

/**
 * An S3 endpoint checked: `url` when it is an http(s) origin, else `why` not. `credentials`
 * marks user info in it, so the caller can refuse without echoing the secret.
 */
export type CheckedEndpoint =
  | { ok: true; url: URL }
  | { ok: false; why: string; credentials?: boolean };

export function checkS3Endpoint(endpoint: string): CheckedEndpoint {
  // Checked on the raw text first: the URL parser would accept and hide it.
  const credentials = {
    ok: false,
    why: 'credentials do not belong in the endpoint',
    credentials: true,
  } as const;
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(endpoint)) return credentials;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return {
      ok: false,
      why: `endpoint must be a URL such as https://host:port, not "${endpoint}"`,
    };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, why: 'endpoint must start with https:// or http://' };
  }
  if (url.username !== '' || url.password !== '') return credentials;
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    return { ok: false, why: 'endpoint must be just scheme://host[:port], without a path' };
  }
  return { ok: true, url };
}

/** Percent-encodes the few characters that would change how a URL part parses. */
function encodePart(s: string, extra: RegExp): string {
  return s.replace(extra, (c) => encodeURIComponent(c));
}

/** The canonical URL of an S3 location: parseable by parseLocationUrl, without credentials. */
export function formatS3Url(loc: Omit<S3Location, 'kind'>): string {
  const prefix = trimPrefix(loc.prefix);
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
  if (loc.layout) q.push(`layout=${loc.layout}`);
  return q.length > 0 ? `${url}?${q.join('&')}` : url;
}
