// `npm run demo`: the whole story on a throwaway control plane + MinIO, nothing to set up.
// Deploys a small app, backs it up to MinIO, deletes the namespace, restores it, and shows
// that a second restore touches nothing. Everything it starts is stopped at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster } from '../test/cluster/harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const launcher = join(root, 'bin', 'kubectl-snapshot');
const NS = 'demo-shop';

const SAMPLE_APP = `
apiVersion: v1
kind: Namespace
metadata: { name: ${NS}, labels: { team: shop } }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: web-config, namespace: ${NS} }
data: { greeting: "hello from the snapshot demo" }
---
apiVersion: v1
kind: Secret
metadata: { name: db-credentials, namespace: ${NS} }
stringData: { password: not-a-real-password }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: web, namespace: ${NS} }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: web-view, namespace: ${NS} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view }
subjects: [{ kind: ServiceAccount, name: web, namespace: ${NS} }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${NS}, labels: { app: web } }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: nginx:1.27
        envFrom: [{ configMapRef: { name: web-config } }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${NS} }
spec:
  selector: { app: web }
  ports: [{ port: 80 }]
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: nightly-report, namespace: ${NS} }
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{ name: report, image: busybox, command: [echo, report] }]
`;

function step(title: string): void {
  console.log(`\n=== ${title}`);
}

async function main(): Promise<void> {
  step(
    'Starting a throwaway control plane (etcd, kube-apiserver, kube-controller-manager) and MinIO',
  );
  const started = Date.now();
  const cluster = await startCluster({ log: (l) => console.log(`  ${l}`) });
  console.log(`  ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  try {
    const env = {
      ...process.env,
      KUBECONFIG: cluster.kubeconfig,
      AWS_ACCESS_KEY_ID: cluster.s3.accessKey,
      AWS_SECRET_ACCESS_KEY: cluster.s3.secretKey,
      KUBECTL_SNAPSHOT_STORAGE: `s3://${cluster.s3.bucket}/demo?endpoint=${encodeURIComponent(cluster.s3.endpoint)}&region=us-east-1&pathStyle=true`,
      KUBECTL_SNAPSHOT_CONFIG: join(cluster.dir, 'kubectl-snapshot-config.json'),
    };
    const kubectl = (...args: string[]) =>
      execFileSync(join(cluster.binDir, 'kubectl'), args, {
        env,
        encoding: 'utf8',
        input: args.includes('-f') ? SAMPLE_APP : undefined,
      });
    const snapshot = (...args: string[]) => {
      console.log(`$ kubectl snapshot ${args.join(' ')}`);
      const r = spawnSync(launcher, args, { env, stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`kubectl snapshot ${args[0]} exited with ${r.status}`);
    };

    step(`Deploying a sample app into namespace ${NS}`);
    process.stdout.write(kubectl('apply', '-f', '-'));
    // Let the Deployment controller make its ReplicaSet, so the backup has controller-owned objects too.
    for (let i = 0; i < 50 && !kubectl('get', 'rs', '-n', NS, '-o', 'name').trim(); i++)
      await new Promise((r) => setTimeout(r, 200));

    step('Backing it up to MinIO');
    snapshot('backup', 'demo-shop-1', '-n', NS);
    snapshot('list');

    step(`Deleting namespace ${NS} and waiting until it is gone`);
    kubectl('delete', 'namespace', NS, '--wait=true', '--timeout=120s');
    console.log(`  namespace ${NS} deleted`);

    step('Restoring it');
    snapshot('restore', 'demo-shop-1');
    process.stdout.write(kubectl('get', 'deploy,svc,cm,secret,sa,cronjob,rolebinding', '-n', NS));

    step('Restoring again: everything exists, nothing is touched');
    snapshot('restore', 'demo-shop-1');
    console.log('\nDemo finished; stopping the control plane and MinIO.');
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
