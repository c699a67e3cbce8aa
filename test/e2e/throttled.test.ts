// A restore against an API server that throttles it: API Priority and Fairness puts the
// restoring ServiceAccount on a priority level of a few seats and a short queue, and rejects
// the rest with 429. `--concurrency auto` (core/adaptive.ts) backs off and finishes with
// nothing failed; the server's own metrics show it did throttle the restore.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configMap,
  create,
  fewSeatsPriorityLevel,
  flowSchemaFor,
  namespace,
  type Obj,
  roleBinding,
  serviceAccount,
} from './fixtures.js';
import { kubectl, objects, uniqueName, until } from './helpers.js';
import { serviceAccountToken, tokenKubeconfig } from './service-accounts.js';
import { directoryStorage, type StorageKind } from './storage-kinds.js';

const OBJECTS = 150;

/** Requests of a priority level the API server rejected so far (its own metric). */
function rejected(level: string): number {
  let total = 0;
  for (const line of kubectl('get', '--raw', '/metrics').split('\n')) {
    if (
      line.startsWith('apiserver_flowcontrol_rejected_requests_total{') &&
      line.includes(`priority_level="${level}"`)
    )
      total += Number(line.split(' ').pop());
  }
  return total;
}

describe('a restore throttled by API Priority and Fairness', () => {
  const src = uniqueName('apf-src');
  const dst = uniqueName('apf-dst');
  const level = uniqueName('ks-few-seats');
  const snap = uniqueName('apf');
  let storage: StorageKind;
  let as: { KUBECONFIG: string };
  const config: Obj[] = [
    fewSeatsPriorityLevel(level, {
      type: 'Queue',
      queuing: { queues: 1, handSize: 1, queueLengthLimit: 4 },
    }),
    flowSchemaFor(level, level, {
      kind: 'ServiceAccount',
      serviceAccount: { name: 'restorer', namespace: dst },
    }),
  ];

  beforeAll(async () => {
    storage = directoryStorage();
    await create([namespace(src)]);
    for (let i = 0; i < OBJECTS; i++)
      await create([configMap(src, `settings-${i}`, { n: String(i) })]);
    const b = await storage.cli(['backup', snap, '-n', src]);
    expect(b.code, b.stderr).toBe(0);
    // The restorer administers only the target namespace.
    await create([
      namespace(dst),
      serviceAccount(dst, 'restorer'),
      roleBinding(dst, 'restorer', 'admin', 'restorer'),
    ]);
    as = { KUBECONFIG: tokenKubeconfig(await serviceAccountToken(dst, 'restorer')) };
    await create(config);
    await until('the FlowSchema to name an existing priority level', async () => {
      const fs = kubectl(
        'get',
        'flowschema',
        level,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Dangling")].status}',
      );
      return fs.trim() === 'False' ? true : undefined;
    });
  }, 180_000);

  afterAll(async () => {
    for (const o of [...config].reverse())
      await objects()
        .delete(o)
        .catch(() => {});
    kubectl('delete', 'namespace', src, dst, '--wait=false');
  });

  it('with --concurrency auto backs off when the server rejects and restores every object: exit 0, nothing failed', async () => {
    const before = rejected(level);
    const r = await storage.cli(
      [
        'restore',
        snap,
        '--namespace-mapping',
        `${src}=${dst}`,
        '--concurrency',
        'auto',
        '-o',
        'json',
      ],
      as,
    );
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { totals: Record<string, number> };
    expect(report.totals.failed).toBe(0);
    expect(report.totals.created).toBe(OBJECTS);
    // It was throttled: a test that was never rejected would prove nothing.
    expect(rejected(level) - before).toBeGreaterThan(0);
    expect(
      kubectl('get', 'configmaps', '-n', dst, '-o', 'name')
        .split('\n')
        .filter((l) => l.includes('settings-')).length,
    ).toBe(OBJECTS);
  });
});
