// The test environment itself: a real control plane with its controllers, RBAC and MinIO.
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { userKubeconfig } from '../cluster/harness.js';
import { api, cluster, minio, uniqueName, until } from './helpers.js';

describe('the test control plane', () => {
  it('runs the Deployment controller: a Deployment gets a ReplicaSet', async () => {
    const core = api(k8s.CoreV1Api);
    const apps = api(k8s.AppsV1Api);
    const ns = uniqueName('found');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    const labels = { app: 'web' };
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
          },
        },
      },
    });
    await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'web' }, spec: { selector: labels, ports: [{ port: 80 }] } },
    });
    const rs = await until('a ReplicaSet', async () => {
      const list = await apps.listNamespacedReplicaSet({ namespace: ns });
      return list.items[0];
    });
    expect(rs.metadata?.ownerReferences?.[0]?.kind).toBe('Deployment');
    const svc = await core.readNamespacedService({ name: 'web', namespace: ns });
    expect(svc.spec?.clusterIP).toMatch(/^10\.0\./);
  });

  it('runs the namespace controller: a deleted namespace goes away, with its contents', async () => {
    const core = api(k8s.CoreV1Api);
    const ns = uniqueName('gone');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'c' }, data: { a: 'b' } },
    });
    await until('the default ServiceAccount', async () =>
      (await core.listNamespacedServiceAccount({ namespace: ns })).items.some(
        (s) => s.metadata?.name === 'default',
      ),
    );
    await core.deleteNamespace({ name: ns });
    await until(
      'the namespace to be deleted',
      async () => {
        try {
          await core.readNamespace({ name: ns });
          return false;
        } catch (err) {
          return (err as { code?: number }).code === 404;
        }
      },
      90_000,
    );
  });

  it('enforces RBAC: a user without bindings is forbidden to list secrets', async () => {
    const path = userKubeconfig(cluster(), 'nobody');
    const core = api(k8s.CoreV1Api, path);
    const err = await core.listNamespacedSecret({ namespace: 'default' }).catch((e: unknown) => e);
    expect((err as { code?: number }).code).toBe(403);
  });

  it('serves S3 from MinIO: put, get, list and delete through the minio client', async () => {
    const mc = minio();
    const { bucket } = cluster().s3;
    const key = `${uniqueName('obj')}/hello.txt`;
    await mc.putObject(bucket, key, Buffer.from('hello'));
    const chunks: Buffer[] = [];
    for await (const c of await mc.getObject(bucket, key)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hello');
    const listed: string[] = [];
    for await (const o of mc.listObjectsV2(bucket, key.split('/')[0], true))
      listed.push((o as { name: string }).name);
    expect(listed).toEqual([key]);
    await mc.removeObject(bucket, key);
    await expect(mc.statObject(bucket, key)).rejects.toThrow();
  });

  it('runs the CronJob controller: a every-minute CronJob gets a Job within 90 seconds', {
    timeout: 120_000,
  }, async () => {
    const core = api(k8s.CoreV1Api);
    const batch = api(k8s.BatchV1Api);
    const ns = uniqueName('cron');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await batch.createNamespacedCronJob({
      namespace: ns,
      body: {
        metadata: { name: 'tick' },
        spec: {
          schedule: '* * * * *',
          jobTemplate: {
            spec: {
              template: {
                spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
              },
            },
          },
        },
      },
    });
    const job = await until(
      'a Job from the CronJob',
      async () => (await batch.listNamespacedJob({ namespace: ns })).items[0],
      90_000,
      1000,
    );
    expect(job.metadata?.ownerReferences?.[0]?.name).toBe('tick');
  });
});

describe('the harness', () => {
  it('leaves no process behind when the process that started it is terminated', {
    timeout: 180_000,
  }, async () => {
    const { spawn } = await import('node:child_process');
    const { join } = await import('node:path');
    const script = `
      const { startCluster } = await import(${JSON.stringify(join(import.meta.dirname, '..', '..', 'build', 'test', 'cluster', 'harness.js'))});
      const c = await startCluster();
      console.log(JSON.stringify(c.pids));
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pids = await new Promise<number[]>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(JSON.parse(out) as number[]);
      });
      child.on('exit', (code) => reject(new Error(`harness exited early with ${code}`)));
    });
    expect(pids.length).toBe(4); // etcd, kube-apiserver, kube-controller-manager, MinIO
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        // A zombie (exited, not yet reaped) is not running either.
        return !/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return false;
      }
    };
    expect(pids.every(alive)).toBe(true);
    child.kill('SIGTERM');
    await until('every harness process to end', async () => pids.every((p) => !alive(p)), 30_000);
  });
});
