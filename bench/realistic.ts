// Objects shaped like real applications, for `npm run bench -- --payload realistic` (the
// default): each app is a Deployment or StatefulSet with a full pod spec and the objects that
// come with it (its Service, ConfigMap of configuration files, TLS and credential Secrets,
// ServiceAccount, Role and RoleBinding, HPA, NetworkPolicy, PodDisruptionBudget, a custom
// resource). Calibrated against the Kubernetes cluster/addons manifests: see
// docs/performance.md ("Realistic payloads"). Deterministic for a seed.
import { BENCH_GROUP, type GeneratedObject, rng } from './generate.js';

type Rand = () => number;

// biome-ignore format: a word list
const WORDS = [
  'server', 'listen', 'port', 'timeout', 'enabled', 'cache', 'size', 'log', 'level', 'info',
  'debug', 'worker', 'threads', 'buffer', 'upstream', 'backend', 'max', 'connections', 'retry',
  'interval', 'path', 'metrics', 'health', 'endpoint', 'database', 'pool', 'user', 'name',
  'host', 'region', 'queue', 'topic', 'consumer', 'group', 'batch', 'flush', 'compression',
  'tls', 'cert', 'key', 'auth', 'token', 'ttl', 'limit', 'rate', 'window', 'storage', 'class',
];
const IMAGES = [
  'nginx',
  'redis',
  'postgres',
  'envoyproxy/envoy',
  'bitnami/kafka',
  'grafana/grafana',
];

const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** A configuration file: sections of `key = value` lines, the way nginx/ini/properties read. */
function configFile(r: Rand, bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const line =
      r() < 0.15
        ? `[${pick(r, WORDS)}.${pick(r, WORDS)}]`
        : `  ${pick(r, WORDS)}_${pick(r, WORDS)} = ${r() < 0.5 ? int(r, 1, 65535) : `${pick(r, WORDS)}-${pick(r, WORDS)}`}`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n');
}

/** A PEM block of random bytes: certificates and keys do not compress, in life either. */
function pem(label: string, bytes: number, seed: Rand): string {
  // Seeded, so runs are comparable: the bytes come from the seed, not the OS.
  const buf = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) buf[i] = Math.floor(seed() * 256);
  const b64 = buf.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function labelsOf(app: string, component: string, i: number): Record<string, string> {
  return {
    'app.kubernetes.io/name': app,
    'app.kubernetes.io/instance': `${app}-${i % 7}`,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/version': `1.${i % 20}.${i % 3}`,
    'app.kubernetes.io/managed-by': 'Helm',
    'helm.sh/chart': `${app}-${1 + (i % 4)}.${i % 10}.0`,
  };
}

function container(r: Rand, name: string, cm: string, secret: string): Record<string, unknown> {
  const port = pick(r, [8080, 8443, 9090, 5432, 6379]);
  const env: Record<string, unknown>[] = Array.from({ length: int(r, 4, 24) }, (_, k) =>
    k % 5 === 4
      ? {
          name: `POD_${pick(r, WORDS).toUpperCase()}_${k}`,
          valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
        }
      : k % 7 === 6
        ? { name: `SECRET_${k}`, valueFrom: { secretKeyRef: { name: secret, key: 'password' } } }
        : {
            name: `${pick(r, WORDS).toUpperCase()}_${pick(r, WORDS).toUpperCase()}_${k}`,
            value: `${pick(r, WORDS)}-${int(r, 1, 999)}`,
          },
  );
  const probe = (path: string) => ({
    httpGet: { path, port, scheme: 'HTTP' },
    initialDelaySeconds: int(r, 0, 30),
    periodSeconds: 10,
    timeoutSeconds: 1,
    failureThreshold: 3,
  });
  // The API server refuses a memory request above the limit: the limit is a multiple of it.
  const memory = int(r, 1, 16);
  return {
    name,
    image: `${pick(r, IMAGES)}:${int(r, 1, 17)}.${int(r, 0, 9)}.${int(r, 0, 9)}`,
    imagePullPolicy: 'IfNotPresent',
    ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
    env,
    envFrom: [{ configMapRef: { name: cm } }],
    resources: {
      requests: { cpu: `${int(r, 1, 10) * 50}m`, memory: `${memory * 64}Mi` },
      limits: { cpu: String(int(r, 1, 4)), memory: `${memory * int(r, 1, 4) * 64}Mi` },
    },
    livenessProbe: probe('/healthz'),
    readinessProbe: probe('/ready'),
    volumeMounts: [
      { name: 'config', mountPath: '/etc/app', readOnly: true },
      { name: 'tls', mountPath: '/etc/tls', readOnly: true },
      { name: 'token', mountPath: '/var/run/secrets/tokens' },
    ],
    securityContext: {
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    },
  };
}

function podSpec(r: Rand, app: string, names: AppNames): Record<string, unknown> {
  const containers = Array.from({ length: int(r, 1, 3) }, (_, k) =>
    container(r, k === 0 ? app : `sidecar-${k}`, names.config, names.credentials),
  );
  return {
    serviceAccountName: names.account,
    containers,
    volumes: [
      { name: 'config', configMap: { name: names.config } },
      { name: 'tls', secret: { secretName: names.tls } },
      {
        name: 'token',
        projected: {
          sources: [
            { serviceAccountToken: { path: 'token', expirationSeconds: 3600, audience: app } },
          ],
        },
      },
    ],
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              topologyKey: 'kubernetes.io/hostname',
              labelSelector: { matchLabels: { 'app.kubernetes.io/name': app } },
            },
          },
        ],
      },
    },
    terminationGracePeriodSeconds: 30,
  };
}

interface AppNames {
  workload: string;
  config: string;
  tls: string;
  credentials: string;
  account: string;
}

/** One application's objects, in the proportions a Helm chart has them. */
function application(r: Rand, ns: string, i: number, bytes: Rand): GeneratedObject[] {
  const app = `${pick(r, ['api', 'web', 'worker', 'cache', 'db', 'broker'])}-${i}`;
  const names: AppNames = {
    workload: app,
    config: `${app}-config`,
    tls: `${app}-tls`,
    credentials: `${app}-credentials`,
    account: app,
  };
  const meta = (name: string, component: string) => ({
    name,
    namespace: ns,
    labels: labelsOf(app, component, i),
    annotations: { 'meta.helm.sh/release-name': app, 'meta.helm.sh/release-namespace': ns },
  });
  const selector = {
    matchLabels: { 'app.kubernetes.io/name': app, 'app.kubernetes.io/instance': `${app}-${i % 7}` },
  };
  const stateful = r() < 0.2;
  const template = {
    metadata: { labels: labelsOf(app, 'server', i) },
    spec: podSpec(r, app, names),
  };
  const core = `/api/v1/namespaces/${ns}`;
  const out: GeneratedObject[] = [
    stateful
      ? {
          path: `/apis/apps/v1/namespaces/${ns}/statefulsets`,
          object: {
            apiVersion: 'apps/v1',
            kind: 'StatefulSet',
            metadata: meta(app, 'server'),
            spec: {
              replicas: 0, // no Pods: the benchmark measures objects, not the scheduler
              serviceName: app,
              selector,
              template,
              volumeClaimTemplates: [
                {
                  metadata: { name: 'data' },
                  spec: {
                    accessModes: ['ReadWriteOnce'],
                    resources: { requests: { storage: `${int(r, 1, 100)}Gi` } },
                  },
                },
              ],
            },
          },
        }
      : {
          path: `/apis/apps/v1/namespaces/${ns}/deployments`,
          object: {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: meta(app, 'server'),
            spec: {
              replicas: 0,
              selector,
              strategy: {
                type: 'RollingUpdate',
                rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 },
              },
              template,
            },
          },
        },
    {
      path: `${core}/configmaps`,
      object: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: meta(names.config, 'config'),
        // Mostly small files, a long tail up to about 40 KB (log-uniform).
        data: Object.fromEntries(
          Array.from({ length: int(r, 1, 4) }, (_, k) => [
            `${pick(r, WORDS)}-${k}.conf`,
            configFile(r, Math.round(200 * 200 ** r())),
          ]),
        ),
      },
    },
    {
      path: `${core}/secrets`,
      object: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: meta(names.tls, 'tls'),
        type: 'kubernetes.io/tls',
        stringData: {
          'tls.crt': pem('CERTIFICATE', int(bytes, 900, 1400), bytes),
          'tls.key': pem('PRIVATE KEY', int(bytes, 1100, 1300), bytes),
        },
      },
    },
    {
      path: `${core}/secrets`,
      object: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: meta(names.credentials, 'credentials'),
        type: 'Opaque',
        stringData: {
          username: `${app}-user`,
          password: randomishToken(bytes, 32),
          'api-key': randomishToken(bytes, 48),
        },
      },
    },
    {
      path: `${core}/services`,
      object: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: meta(app, 'server'),
        // No selector: with no Pods its EndpointSlice would only be controller churn.
        spec: {
          type: 'ClusterIP',
          ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
        },
      },
    },
    {
      path: `${core}/serviceaccounts`,
      object: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(names.account, 'rbac') },
    },
  ];
  if (r() < 0.5) {
    const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}`;
    out.push(
      {
        path: `${rbac}/roles`,
        object: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: meta(app, 'rbac'),
          rules: [
            {
              apiGroups: [''],
              resources: ['configmaps', 'secrets'],
              verbs: ['get', 'list', 'watch'],
            },
            {
              apiGroups: ['coordination.k8s.io'],
              resources: ['leases'],
              verbs: ['get', 'create', 'update'],
            },
          ],
        },
      },
      {
        path: `${rbac}/rolebindings`,
        object: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: meta(app, 'rbac'),
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: app },
          subjects: [{ kind: 'ServiceAccount', name: names.account, namespace: ns }],
        },
      },
    );
  }
  if (!stateful && r() < 0.5)
    out.push({
      path: `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers`,
      object: {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: meta(app, 'server'),
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: app },
          minReplicas: 1,
          maxReplicas: int(r, 3, 20),
          metrics: [
            {
              type: 'Resource',
              resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
            },
          ],
        },
      },
    });
  if (r() < 0.4)
    out.push({
      path: `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`,
      object: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: meta(app, 'network'),
        spec: {
          podSelector: selector,
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [
                { podSelector: { matchLabels: { 'app.kubernetes.io/component': 'gateway' } } },
              ],
              ports: [{ protocol: 'TCP', port: 8080 }],
            },
          ],
        },
      },
    });
  if (r() < 0.3)
    out.push({
      path: `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`,
      object: {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: meta(app, 'server'),
        spec: { minAvailable: 1, selector },
      },
    });
  if (r() < 0.4)
    out.push({
      path: `/apis/${BENCH_GROUP}/v1/namespaces/${ns}/widgets`,
      object: {
        apiVersion: `${BENCH_GROUP}/v1`,
        kind: 'Widget',
        metadata: meta(app, 'operator'),
        spec: {
          replicas: int(r, 1, 5),
          version: `3.${int(r, 0, 9)}.${int(r, 0, 9)}`,
          listeners: Array.from({ length: int(r, 1, 3) }, (_, k) => ({
            name: `${pick(r, ['plain', 'tls', 'external'])}-${k}`,
            port: 9092 + k,
            tls: k > 0,
            authentication: { type: pick(r, ['scram-sha-512', 'tls', 'oauth']) },
          })),
          config: Object.fromEntries(
            Array.from({ length: int(r, 3, 12) }, () => [
              `${pick(r, WORDS)}.${pick(r, WORDS)}`,
              int(r, 1, 10000),
            ]),
          ),
          storage: { type: 'persistent-claim', size: `${int(r, 10, 500)}Gi`, deleteClaim: false },
        },
      },
    });
  return out;
}

/** A token as credentials are: random printable characters, incompressible beyond base64. */
function randomishToken(r: Rand, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
}

/** `n` objects of whole applications spread over `namespaces` (the last app is cut at n). */
export function generateRealistic(n: number, namespaces: string[], seed = 42): GeneratedObject[] {
  const r = rng(seed);
  // Key and certificate bytes from their own sequence, so shapes do not shift with sizes.
  const bytes = rng(seed ^ 0x5eed);
  const out: GeneratedObject[] = [];
  for (let i = 0; out.length < n; i++)
    out.push(...application(r, namespaces[i % namespaces.length] as string, i, bytes));
  return out.slice(0, n);
}
