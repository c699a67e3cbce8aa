// Kubeconfig loading as kubectl does it (--kubeconfig, $KUBECONFIG list, ~/.kube/config,
// in-cluster), for the common credential kinds: client certificates, tokens, token files,
// basic auth and exec plugins. Loading @kubernetes/client-node costs about half a second and
// 60 MiB at start-up (it evaluates the whole generated API), so it is imported only for the
// legacy `auth-provider` plugins (oidc, gcp, azure) that it implements.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import * as yaml from 'js-yaml';
import { errorMessage, UserError } from '../core/errors.js';
import { homeDir } from '../core/home.js';

const execFileP = promisify(execFile);

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface TlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
  rejectUnauthorized?: boolean;
}

/** Where to connect and how to authenticate; `credentials()` may refresh (exec, token files). */
export interface Connection {
  server: string;
  contextName: string;
  namespace?: string;
  credentials(): Promise<{ tls: TlsOptions; headers: Record<string, string> }>;
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  value: T;
}

interface RawCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
}

interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  apiVersion?: string;
}

interface RawUser {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: ExecConfig;
  'auth-provider'?: unknown;
  as?: string;
  'as-groups'?: string[];
}

interface RawContext {
  cluster: string;
  user: string;
  namespace?: string;
}

interface Merged {
  currentContext?: string;
  clusters: Map<string, { dir: string; value: RawCluster }>;
  users: Map<string, { dir: string; value: RawUser }>;
  contexts: Map<string, RawContext>;
  files: string[];
}

function kubeconfigFiles(explicit: string | undefined, env: NodeJS.ProcessEnv): string[] {
  if (explicit) {
    if (!existsSync(explicit))
      throw new UserError(`kubeconfig ${explicit} does not exist`, 'check the --kubeconfig path');
    return [explicit];
  }
  if (env.KUBECONFIG) return env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f));
  const home = join(homeDir(env), '.kube', 'config');
  return existsSync(home) ? [home] : [];
}

/** Merges files like kubectl: the first file that defines a name (or current-context) wins. */
function merge(files: string[]): Merged {
  const m: Merged = { clusters: new Map(), users: new Map(), contexts: new Map(), files };
  for (const file of files) {
    let doc: {
      'current-context'?: string;
      clusters?: Named<never>[];
      users?: Named<never>[];
      contexts?: Named<never>[];
    };
    try {
      doc = (yaml.load(readFileSync(file, 'utf8')) ?? {}) as typeof doc;
    } catch (err) {
      throw new UserError(
        `cannot read kubeconfig ${file}: ${errorMessage(err)}`,
        'fix the file or point KUBECONFIG elsewhere',
      );
    }
    const dir = dirname(file);
    m.currentContext ??= doc['current-context'] || undefined;
    for (const c of doc.clusters ?? [])
      if (!m.clusters.has(c.name))
        m.clusters.set(c.name, { dir, value: (c as { cluster?: RawCluster }).cluster ?? {} });
    for (const u of doc.users ?? [])
      if (!m.users.has(u.name))
        m.users.set(u.name, { dir, value: (u as { user?: RawUser }).user ?? {} });
    for (const c of doc.contexts ?? [])
      if (!m.contexts.has(c.name))
        m.contexts.set(c.name, (c as { context?: RawContext }).context as RawContext);
  }
  return m;
}

function readRelative(dir: string, file: string): Buffer {
  const path = isAbsolute(file) ? file : join(dir, file);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UserError(`cannot read ${path} named in the kubeconfig: ${errorMessage(err)}`);
  }
}

function fileOrData(
  dir: string,
  file: string | undefined,
  data: string | undefined,
): Buffer | undefined {
  if (file) return readRelative(dir, file);
  if (data) return Buffer.from(data, 'base64');
  return undefined;
}

interface ExecResult {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
  expires: number;
}

/** Runs a client-go credential plugin (ExecCredential) and caches its answer until it expires. */
function execPlugin(exec: ExecConfig, dir: string, server: string): () => Promise<ExecResult> {
  let cached: ExecResult | undefined;
  return async () => {
    if (cached && cached.expires > Date.now() + 10_000) return cached;
    const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1';
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KUBERNETES_EXEC_INFO: JSON.stringify({
        apiVersion,
        kind: 'ExecCredential',
        spec: { interactive: false, cluster: { server } },
      }),
    };
    for (const e of exec.env ?? []) env[e.name] = e.value;
    const command =
      exec.command.includes('/') && !isAbsolute(exec.command)
        ? join(dir, exec.command)
        : exec.command;
    let stdout: string;
    try {
      ({ stdout } = await execFileP(command, exec.args ?? [], { env, maxBuffer: 4 << 20 }));
    } catch (err) {
      throw new UserError(
        `the kubeconfig's credential plugin "${exec.command}" failed: ${errorMessage(err)}`,
        'run it by hand or log in again',
      );
    }
    const status =
      (
        JSON.parse(stdout) as {
          status?: {
            token?: string;
            clientCertificateData?: string;
            clientKeyData?: string;
            expirationTimestamp?: string;
          };
        }
      ).status ?? {};
    cached = {
      ...(status.token ? { token: status.token } : {}),
      ...(status.clientCertificateData ? { cert: Buffer.from(status.clientCertificateData) } : {}),
      ...(status.clientKeyData ? { key: Buffer.from(status.clientKeyData) } : {}),
      expires: status.expirationTimestamp
        ? Date.parse(status.expirationTimestamp)
        : Number.POSITIVE_INFINITY,
    };
    return cached;
  };
}

function inCluster(env: NodeJS.ProcessEnv): Connection | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(SA_DIR, 'token');
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const ca = readFileSync(join(SA_DIR, 'ca.crt'));
  const namespace = existsSync(join(SA_DIR, 'namespace'))
    ? readFileSync(join(SA_DIR, 'namespace'), 'utf8').trim()
    : undefined;
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    contextName: 'in-cluster',
    ...(namespace ? { namespace } : {}),
    // Bound service-account tokens rotate: read the file each time.
    credentials: async () => ({
      tls: { ca },
      headers: { Authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` },
    }),
  };
}

export function loadConnection(
  opts: { kubeconfig?: string; context?: string },
  env: NodeJS.ProcessEnv = process.env,
): Connection {
  const files = kubeconfigFiles(opts.kubeconfig, env);
  if (files.length === 0) {
    const pod = inCluster(env);
    if (pod) return pod;
    throw new UserError(
      'no kubeconfig found',
      'pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run inside a Pod',
    );
  }
  const m = merge(files);
  const contextName = opts.context ?? m.currentContext;
  if (!contextName)
    throw new UserError(
      'the kubeconfig has no current context',
      'pass --context or run: kubectl config use-context NAME',
    );
  const ctx = m.contexts.get(contextName);
  if (!ctx) {
    throw new UserError(
      `context "${contextName}" not found in kubeconfig`,
      'list contexts with: kubectl config get-contexts',
    );
  }
  const cluster = m.clusters.get(ctx.cluster);
  if (!cluster?.value.server)
    throw new UserError(
      `cluster "${ctx.cluster}" of context "${contextName}" has no server in the kubeconfig`,
    );
  const user = m.users.get(ctx.user) ?? { dir: '', value: {} };
  const c = cluster.value;
  const u = user.value;
  const server = c.server as string;
  const baseTls: TlsOptions = {};
  const ca = fileOrData(cluster.dir, c['certificate-authority'], c['certificate-authority-data']);
  if (ca) baseTls.ca = ca;
  if (c['insecure-skip-tls-verify'] === true) baseTls.rejectUnauthorized = false;
  if (c['tls-server-name']) baseTls.servername = c['tls-server-name'];
  const cert = fileOrData(user.dir, u['client-certificate'], u['client-certificate-data']);
  const key = fileOrData(user.dir, u['client-key'], u['client-key-data']);
  if (cert) baseTls.cert = cert;
  if (key) baseTls.key = key;
  const impersonation: Record<string, string> = u.as ? { 'Impersonate-User': u.as } : {};
  const exec = u.exec ? execPlugin(u.exec, user.dir, server) : undefined;
  const authProvider = u['auth-provider'] ? legacyAuthProvider(files, contextName) : undefined;

  return {
    server,
    contextName,
    ...(ctx.namespace ? { namespace: ctx.namespace } : {}),
    credentials: async () => {
      const headers: Record<string, string> = { ...impersonation };
      const tls = { ...baseTls };
      if (u.token) headers.Authorization = `Bearer ${u.token}`;
      else if (u.tokenFile)
        headers.Authorization = `Bearer ${readRelative(user.dir, u.tokenFile).toString('utf8').trim()}`;
      else if (u.username !== undefined)
        headers.Authorization = `Basic ${Buffer.from(`${u.username}:${u.password ?? ''}`).toString('base64')}`;
      if (exec) {
        const r = await exec();
        if (r.token) headers.Authorization = `Bearer ${r.token}`;
        if (r.cert) tls.cert = r.cert;
        if (r.key) tls.key = r.key;
      }
      if (authProvider) Object.assign(headers, await authProvider());
      return { tls, headers };
    },
  };
}

/** oidc/gcp/azure auth-provider entries: delegated to client-node, which implements them. */
function legacyAuthProvider(
  files: string[],
  context: string,
): () => Promise<Record<string, string>> {
  let kc: import('./legacy-auth.js').KubeConfig | undefined;
  return async () => {
    if (!kc) {
      const { KubeConfig } = await import('./legacy-auth.js');
      kc = new KubeConfig();
      // client-node merges KUBECONFIG lists the same way.
      kc.loadFromFile(files[0] as string);
      kc.setCurrentContext(context);
    }
    const o: { headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(o as never);
    return o.headers ?? {};
  };
}
