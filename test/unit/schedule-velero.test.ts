// A Velero Schedule → the options of `schedule create`: each translated field, the fields
// reported as having no equivalent, the refusals, and the flags that replace Velero's values.
import { describe, expect, it } from 'vitest';
import { parseCron } from '../../src/schedule/cron.js';
import {
  parseVeleroRef,
  scheduleFromVelero,
  selectorText,
  veleroSchedulePath,
} from '../../src/schedule/velero.js';
import { selection, veleroSchedule } from './builders.js';
import { userError } from './user-error.js';

const TTL_NOTE =
  "spec.template.ttl (unset): Velero's server gives each backup its --default-backup-ttl (720h unless changed); these snapshots do not expire: give --ttl 720h for the same";

const shop = (template: Record<string, unknown> = {}, spec: Record<string, unknown> = {}) =>
  veleroSchedule(
    'nightly',
    '0 2 * * *',
    { includedNamespaces: ['shop'], ttl: '720h0m0s', ...template },
    spec,
  );

describe('scheduleFromVelero', () => {
  it('translates the cron expression, namespaces and TTL of a plain Velero Schedule', () => {
    expect(scheduleFromVelero(shop())).toEqual({
      options: {
        schedule: parseCron('0 2 * * *'),
        selection: selection(['shop']),
        ttl: { text: '720h0m0s', ms: 720 * 3_600_000 },
        labels: {},
        suspend: false,
      },
      unmapped: [],
    });
  });

  it.each([
    ['CRON_TZ=Europe/Berlin 30 1 * * *', '30 1 * * *', 'Europe/Berlin'],
    ['TZ=America/New_York @daily', '@daily', 'America/New_York'],
    ['  */15 * * * * ', '*/15 * * * *', undefined],
  ])('reads "%s" as the cron %s in the zone %s', (text, cron, zone) => {
    const { options } = scheduleFromVelero(
      veleroSchedule('n', text, { includedNamespaces: ['a'] }),
    );
    expect(options.schedule).toEqual(parseCron(cron));
    expect(options.timeZone).toBe(zone);
  });

  it.each([
    ['@every 6h', 'give --schedule "0 */6 * * *" (the same interval, on the clock)'],
    ['@every 15m', 'give --schedule "*/15 * * * *" (the same interval, on the clock)'],
    ['@every 24h', 'give --schedule "@daily" (the same interval, on the clock)'],
    ['@every 7h', 'give --schedule with a cron expression, e.g. "0 2 * * *"'],
  ])('refuses "%s", a CronJob cannot run it, with the nearest cron in the hint', (text, hint) => {
    const err = userError(() => scheduleFromVelero(veleroSchedule('n', text)));
    expect(err.message).toBe(
      `Velero Schedule spec.schedule "${text}": a CronJob cannot run @every (an interval from the last run, not a time of day)`,
    );
    expect(err.hint).toBe(hint);
  });

  it('refuses an unknown time zone and a cron expression the CronJob controller would refuse', () => {
    expect(
      userError(() => scheduleFromVelero(veleroSchedule('n', 'CRON_TZ=Mars/Olympus 0 2 * * *')))
        .message,
    ).toBe('unknown time zone "Mars/Olympus"');
    expect(userError(() => scheduleFromVelero(veleroSchedule('n', '0 2 * *'))).message).toContain(
      'invalid cron schedule "0 2 * *"',
    );
    expect(userError(() => scheduleFromVelero(veleroSchedule('n', ''))).message).toBe(
      'Velero Schedule has no spec.schedule',
    );
  });

  it('backs up every namespace but the excluded ones for "*" or no includedNamespaces', () => {
    for (const included of [['*'], [], undefined]) {
      const { options } = scheduleFromVelero(
        shop({ includedNamespaces: included, excludedNamespaces: ['kube-system'] }),
      );
      expect(options.selection).toEqual(
        selection([], { allNamespaces: true, excludeNamespaces: ['kube-system'] }),
      );
    }
  });

  it('leaves excluded namespaces out of the included ones, as Velero does', () => {
    const { options } = scheduleFromVelero(
      shop({ includedNamespaces: ['shop', 'cart', 'test'], excludedNamespaces: ['test'] }),
    );
    expect(options.selection).toEqual(selection(['shop', 'cart']));
    expect(
      userError(() => scheduleFromVelero(shop({ excludedNamespaces: ['shop'] }))).message,
    ).toBe('Velero Schedule velero/nightly excludes every namespace it includes');
  });

  it('refuses namespace patterns, which select by more than a name', () => {
    const err = userError(() => scheduleFromVelero(shop({ includedNamespaces: ['shop-*'] })));
    expect(err.message).toBe(
      'Velero Schedule spec.template.includedNamespaces has the pattern "shop-*": kubectl-snapshot selects namespaces by name',
    );
    expect(err.hint).toBe(
      'name them with -n NAMESPACE (repeatable), or -A with --exclude-namespace',
    );
  });

  it('translates the label selector, the resource filters and includeClusterResources', () => {
    const { options } = scheduleFromVelero(
      shop({
        labelSelector: {
          matchLabels: { app: 'web' },
          matchExpressions: [
            { key: 'tier', operator: 'In', values: ['front', 'back'] },
            { key: 'env', operator: 'NotIn', values: ['dev'] },
            { key: 'owner', operator: 'Exists' },
            { key: 'legacy', operator: 'DoesNotExist' },
          ],
        },
        includedResources: ['deployments', 'configmaps'],
        excludedResources: ['secrets'],
        includeClusterResources: false,
      }),
    );
    expect(options.selection).toEqual(
      selection(['shop'], {
        labelSelector: 'app=web,tier in (front,back),env notin (dev),owner,!legacy',
        includeResources: ['deployments', 'configmaps'],
        excludeResources: ['secrets'],
        includeClusterResources: 'false',
      }),
    );
  });

  it.each([
    [true, 'true'],
    [false, 'false'],
    [null, 'auto'],
    [undefined, 'auto'],
  ])('maps includeClusterResources %s to %s', (velero, ours) => {
    const { options } = scheduleFromVelero(shop({ includeClusterResources: velero }));
    expect(options.selection.includeClusterResources).toBe(ours);
  });

  it('reads "*" in includedResources as every type and takes the scoped filters by name', () => {
    const { options } = scheduleFromVelero(
      shop({
        includedResources: ['*'],
        excludedNamespaceScopedResources: ['secrets'],
        excludedClusterScopedResources: ['storageclasses'],
      }),
    );
    expect(options.selection.includeResources).toEqual([]);
    expect(options.selection.excludeResources).toEqual(['secrets', 'storageclasses']);
  });

  it('refuses orLabelSelectors and includedClusterScopedResources, which have no equivalent', () => {
    const or = userError(() =>
      scheduleFromVelero(shop({ orLabelSelectors: [{ matchLabels: { a: 'b' } }] })),
    );
    expect(or.message).toBe(
      'Velero Schedule spec.template.orLabelSelectors has no equivalent: a schedule takes one label selector',
    );
    expect(
      userError(() => scheduleFromVelero(shop({ includedClusterScopedResources: ['*'] }))).message,
    ).toBe('Velero Schedule spec.template.includedClusterScopedResources has no equivalent');
  });

  it('takes the backup labels of the template and creates a paused schedule suspended', () => {
    const { options } = scheduleFromVelero(
      shop({ metadata: { labels: { team: 'payments' } } }, { paused: true }),
    );
    expect(options.labels).toEqual({ team: 'payments' });
    expect(options.suspend).toBe(true);
  });

  it('names each set field that has no equivalent, one line each, in the order Velero has them', () => {
    const { unmapped } = scheduleFromVelero(
      shop(
        {
          snapshotVolumes: true,
          storageLocation: 'default',
          hooks: { resources: [{ name: 'freeze' }] },
          defaultVolumesToFsBackup: true,
          metadata: { annotations: { note: 'x' } },
          futureField: 3,
        },
        { useOwnerReferencesInBackup: true },
      ),
    );
    expect(unmapped).toEqual([
      'spec.useOwnerReferencesInBackup (true): snapshots are files in the storage location, not objects a Schedule could own',
      'spec.template.snapshotVolumes (true): kubectl-snapshot backs up no volume data',
      'spec.template.storageLocation ("default"): a BackupStorageLocation is not read; give --storage (a location, or s3://… ?layout=velero to keep writing where Velero reads)',
      'spec.template.hooks ({"resources":[{"name":"freeze"}]}): kubectl-snapshot runs no hooks in pods',
      'spec.template.defaultVolumesToFsBackup (true): kubectl-snapshot backs up no volume data',
      'spec.template.futureField (3): kubectl-snapshot has no such setting',
      'spec.template.metadata.annotations ({"note":"x"}): snapshots carry labels only',
    ]);
  });

  it('does not report fields at their off state (as `velero schedule create` writes them) or that a CronJob does anyway', () => {
    const { unmapped } = scheduleFromVelero(
      shop(
        {
          hooks: {},
          metadata: {},
          csiSnapshotTimeout: '0s',
          itemOperationTimeout: '0s',
          snapshotVolumes: false,
          defaultVolumesToFsBackup: null,
          volumeSnapshotLocations: [],
        },
        { useOwnerReferencesInBackup: false, paused: false, skipImmediately: true },
      ),
    );
    expect(unmapped).toEqual([]);
  });

  it("reports an unset or zero TTL, which Velero's server fills with its default", () => {
    for (const ttl of [undefined, '0s', '0h0m0s']) {
      const t = scheduleFromVelero(shop({ ttl }));
      expect(t.options.ttl).toBeUndefined();
      expect(t.unmapped).toEqual([TTL_NOTE]);
    }
  });

  it('refuses what is not a velero.io/v1 Schedule', () => {
    const backup = { ...shop(), kind: 'Backup' };
    expect(userError(() => scheduleFromVelero(backup)).message).toBe(
      'velero/nightly is not a velero.io/v1 Schedule',
    );
  });
});

describe('scheduleFromVelero with flags given', () => {
  it('lets each flag replace the Velero field it corresponds to', () => {
    const { options, unmapped } = scheduleFromVelero(
      shop({ labelSelector: { matchLabels: { app: 'web' } }, includeClusterResources: true }),
      {
        schedule: parseCron('@hourly'),
        timeZone: 'Asia/Tokyo',
        namespaces: ['cart'],
        labelSelector: 'app=cart',
        includeResources: ['pods'],
        includeClusterResources: 'false',
        ttl: { text: '24h', ms: 86_400_000 },
        suspend: true,
      },
    );
    expect(options).toEqual({
      schedule: parseCron('@hourly'),
      timeZone: 'Asia/Tokyo',
      selection: selection(['cart'], {
        labelSelector: 'app=cart',
        includeResources: ['pods'],
        includeClusterResources: 'false',
      }),
      ttl: { text: '24h', ms: 86_400_000 },
      labels: {},
      suspend: true,
    });
    expect(unmapped).toEqual([]);
  });

  it('needs no translatable cron or selector once --schedule or -l replaces them', () => {
    const { options } = scheduleFromVelero(
      shop(
        { orLabelSelectors: [{ matchLabels: { a: 'b' } }] },
        { schedule: 'CRON_TZ=UTC @every 1h' },
      ),
      { schedule: parseCron('@hourly'), labelSelector: 'a=b' },
    );
    expect(options.schedule).toEqual(parseCron('@hourly'));
    expect(options.timeZone).toBe('UTC');
    expect(options.selection.labelSelector).toBe('a=b');
  });

  it('replaces the namespaces with -A and adds --labels to the template labels', () => {
    const { options } = scheduleFromVelero(
      shop({ metadata: { labels: { team: 'a', tier: 'x' } } }),
      {
        allNamespaces: true,
        excludeNamespaces: ['kube-system'],
        labels: { tier: 'gold' },
      },
    );
    expect(options.selection).toEqual(
      selection([], { allNamespaces: true, excludeNamespaces: ['kube-system'] }),
    );
    expect(options.labels).toEqual({ team: 'a', tier: 'gold' });
  });
});

describe('the Velero Schedule reference', () => {
  it('reads NAMESPACE/NAME, and a bare NAME in the namespace velero', () => {
    expect(parseVeleroRef('backups/nightly')).toEqual({ namespace: 'backups', name: 'nightly' });
    expect(parseVeleroRef('nightly')).toEqual({ namespace: 'velero', name: 'nightly' });
    expect(veleroSchedulePath({ namespace: 'velero', name: 'nightly' })).toBe(
      '/apis/velero.io/v1/namespaces/velero/schedules/nightly',
    );
  });

  it.each(['a/b/c', '/nightly', 'velero/', ''])('refuses "%s"', (text) => {
    expect(userError(() => parseVeleroRef(text)).message).toBe(
      `invalid --from-velero-schedule "${text}"`,
    );
  });

  it('writes an empty selector as none', () => {
    expect(selectorText({})).toBeUndefined();
    expect(selectorText(undefined)).toBeUndefined();
  });
});
