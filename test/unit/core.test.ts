// Pure building blocks: names, durations, label selectors, resource patterns, the pool.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/core/duration.js';
import { UserError } from '../../src/core/errors.js';
import { homeDir } from '../../src/core/home.js';
import {
  defaultSnapshotName,
  validateNamespaceName,
  validateSnapshotName,
} from '../../src/core/names.js';
import { mapLimit } from '../../src/core/pool.js';
import {
  assertPatternsKnown,
  matchesResource,
  type NamedType,
  selectTypes,
  splitList,
} from '../../src/core/resources.js';
import { matchesSelector, parseSelector } from '../../src/core/selectors.js';
import { sleep } from '../../src/core/time.js';
import { qualifiedResource } from '../../src/core/types.js';
import { VERSION } from '../../src/version.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('version', () => {
  it('VERSION equals the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(VERSION).toBe(pkg.version);
  });
});

describe('snapshot names', () => {
  it('accepts DNS-1123 labels up to 63 characters', () => {
    for (const ok of ['a', '0', 'web', 'web-20240101-000000', 'a1-b2', 'x'.repeat(63), '0abc']) {
      expect(() => validateSnapshotName(ok), ok).not.toThrow();
    }
  });

  it('refuses anything else with a UserError that names the value and gives a hint', () => {
    for (const bad of [
      '',
      'Web',
      'a_b',
      '-a',
      'a-',
      'a.b',
      'a/b',
      '../x',
      ' a',
      'ü',
      'x'.repeat(64),
    ]) {
      const err = thrown(() => validateSnapshotName(bad));
      expect(err, JSON.stringify(bad)).toBeInstanceOf(UserError);
      expect((err as UserError).message).toContain(`"${bad}"`);
      expect((err as UserError).hint).toBeTruthy();
    }
  });

  it('refuses invalid namespace names with a UserError', () => {
    expect(() => validateNamespaceName('kube-system')).not.toThrow();
    expect(() => validateNamespaceName('Kube')).toThrow(UserError);
    expect(() => validateNamespaceName('a.b')).toThrow(UserError);
  });

  it('defaults to <namespace>-<UTC timestamp>', () => {
    const now = new Date('2024-03-05T06:07:08.999Z');
    expect(defaultSnapshotName(['web'], false, now)).toBe('web-20240305-060708');
    expect(defaultSnapshotName(['web', 'db', 'cache'], false, now)).toBe(
      'web-and-2-20240305-060708',
    );
    expect(defaultSnapshotName([], true, now)).toBe('all-20240305-060708');
    expect(defaultSnapshotName([], false, now)).toBe('cluster-20240305-060708');
  });

  it('keeps default names valid and at most 63 characters, even for the longest namespace', () => {
    const now = new Date('2024-12-31T23:59:59Z');
    for (const ns of ['n'.repeat(63), `${'a'.repeat(46)}-${'b'.repeat(16)}`, 'a--b']) {
      for (const list of [[ns], [ns, 'other']]) {
        const name = defaultSnapshotName(list, false, now);
        expect(name.length).toBeLessThanOrEqual(63);
        expect(() => validateSnapshotName(name), name).not.toThrow();
        expect(name.endsWith('-20241231-235959')).toBe(true);
      }
    }
  });

  it('makes valid default names for any namespace list and time', () => {
    const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    const date = fc.date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2999-12-31T23:59:59Z'),
      noInvalidDate: true,
    });
    fc.assert(
      fc.property(fc.array(label, { maxLength: 4 }), fc.boolean(), date, (nss, all, now) => {
        const name = defaultSnapshotName(nss, all, now);
        expect(name.length).toBeLessThanOrEqual(63);
        validateSnapshotName(name);
      }),
      { numRuns: 300 },
    );
  });

  it('makes default names of one namespace sort by time', () => {
    const times = [
      '2023-12-31T23:59:59Z',
      '2024-01-01T00:00:00Z',
      '2024-01-01T00:00:01Z',
      '2024-01-01T09:59:59Z',
      '2024-01-01T10:00:00Z',
      '2024-02-10T00:00:00Z',
      '2024-10-02T00:00:00Z',
      '2025-01-01T00:00:00Z',
    ];
    for (const ns of ['web', 'x'.repeat(63)]) {
      const names = times.map((t) => defaultSnapshotName([ns], false, new Date(t)));
      expect(new Set(names).size).toBe(names.length);
      expect([...names].sort()).toEqual(names);
    }
  });
});

describe('durations', () => {
  it('parses Go-style durations and days into milliseconds', () => {
    expect(parseDuration('720h')).toBe(720 * 3_600_000);
    expect(parseDuration('1h30m')).toBe(90 * 60_000);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('1d12h')).toBe(36 * 3_600_000);
  });

  it('refuses empty, unitless, negative, zero and malformed durations with a UserError', () => {
    for (const bad of [
      '',
      'abc',
      '10',
      '-5h',
      '1h x',
      ' 1h',
      '1h ',
      '0s',
      '0h0m',
      'h',
      '1w',
      '1H',
    ]) {
      const err = thrown(() => parseDuration(bad));
      expect(err, JSON.stringify(bad)).toBeInstanceOf(UserError);
      expect((err as UserError).message).toBe(`invalid duration "${bad}"`);
      expect((err as UserError).hint).toMatch(/720h/);
    }
  });
});

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'frontend', 'example.com/team': 'a', empty: '' };
  const matches = (selector: string, l: Record<string, string> | undefined = labels) =>
    matchesSelector(parseSelector(selector), l);

  it('matches equality with = and ==', () => {
    expect(matches('app=web')).toBe(true);
    expect(matches('app==web')).toBe(true);
    expect(matches('app = web')).toBe(true);
    expect(matches('app=db')).toBe(false);
    expect(matches('missing=web')).toBe(false);
    expect(matches('example.com/team=a')).toBe(true);
    expect(matches('empty=')).toBe(true);
    expect(matches('app=')).toBe(false);
  });

  it('matches inequality with !=, including objects without the label', () => {
    expect(matches('app!=db')).toBe(true);
    expect(matches('app!=web')).toBe(false);
    expect(matches('missing!=web')).toBe(true);
  });

  it('matches set membership with in and notin', () => {
    expect(matches('app in (web,db)')).toBe(true);
    expect(matches('app in (db, cache)')).toBe(false);
    expect(matches('missing in (web)')).toBe(false);
    expect(matches('app notin (db,cache)')).toBe(true);
    expect(matches('app notin (web)')).toBe(false);
    expect(matches('missing notin (web)')).toBe(true);
  });

  it('matches existence with key and !key', () => {
    expect(matches('app')).toBe(true);
    expect(matches('missing')).toBe(false);
    expect(matches('!missing')).toBe(true);
    expect(matches('!app')).toBe(false);
    expect(matches('empty')).toBe(true);
  });

  it('requires every requirement of a combination', () => {
    expect(matches('app=web,tier in (frontend,backend),!legacy,example.com/team')).toBe(true);
    expect(matches('app=web,tier notin (frontend)')).toBe(false);
    expect(matches('app in (web,db),tier!=backend')).toBe(true);
  });

  it('treats missing labels as an empty map', () => {
    expect(matchesSelector(parseSelector('!app'), undefined)).toBe(true);
    expect(matchesSelector(parseSelector('app'), undefined)).toBe(false);
    expect(matchesSelector(parseSelector('app!=web'), undefined)).toBe(true);
    expect(matchesSelector(parseSelector('app in (web)'), undefined)).toBe(false);
  });

  it('does not mistake inherited object properties for labels', () => {
    expect(matches('constructor', {})).toBe(false);
    expect(matches('!toString', {})).toBe(true);
  });

  it('accepts the longest valid keys and values', () => {
    const prefix = `${'p'.repeat(63)}.${'q'.repeat(63)}.${'r'.repeat(63)}.${'s'.repeat(61)}`;
    const key = `${prefix}/${'K'.repeat(63)}`;
    const value = 'v'.repeat(63);
    expect(parseSelector(`${key}=${value}`)).toEqual([{ key, op: 'in', values: [value] }]);
    expect(parseSelector(`${'k'.repeat(63)}`)).toEqual([{ key: 'k'.repeat(63), op: 'exists' }]);
  });

  it('reads empty values and value lists as Kubernetes does', () => {
    expect(parseSelector('a=')).toEqual([{ key: 'a', op: 'in', values: [''] }]);
    expect(parseSelector('a!=')).toEqual([{ key: 'a', op: 'notin', values: [''] }]);
    expect(parseSelector('a in ()')).toEqual([{ key: 'a', op: 'in', values: [''] }]);
  });

  it('parses selectors into requirements', () => {
    expect(parseSelector('a=b, c!=d, e in (f, g), h notin (i), j, !k')).toEqual([
      { key: 'a', op: 'in', values: ['b'] },
      { key: 'c', op: 'notin', values: ['d'] },
      { key: 'e', op: 'in', values: ['f', 'g'] },
      { key: 'h', op: 'notin', values: ['i'] },
      { key: 'j', op: 'exists' },
      { key: 'k', op: 'notexists' },
    ]);
  });

  it('refuses invalid selectors with a UserError that quotes the selector', () => {
    for (const bad of [
      '',
      '   ',
      'a=b,',
      ',a=b',
      'a b',
      '=b',
      'a=b=c',
      'a in (b',
      'a in b',
      'a=-b',
      '-a=b',
      'a/b/c=d',
      'a=b c',
      `a=${'v'.repeat(64)}`,
      `${'k'.repeat(64)}=v`,
      `example.com/${'k'.repeat(64)}=v`,
      `${'p'.repeat(254)}/k=v`,
      'Example.com/k=v',
      'app=wéb',
      '!',
    ]) {
      const err = thrown(() => parseSelector(bad));
      expect(err, JSON.stringify(bad)).toBeInstanceOf(UserError);
      expect((err as UserError).message).toContain(`invalid label selector "${bad}"`);
    }
  });

  it('matches a label map with any selector built from its own pairs', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,30}[A-Za-z0-9])?$/);
    const prefix = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?(\.[a-z0-9]{1,5}){0,2}$/);
    const key = fc
      .tuple(fc.option(prefix, { nil: undefined }), name)
      .map(([p, n]) => (p === undefined ? n : `${p}/${n}`));
    const value = fc.oneof(fc.constant(''), name);
    const labelMap = fc.dictionary(key, value, { minKeys: 1, maxKeys: 6 });
    fc.assert(
      fc.property(
        labelMap,
        fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        fc.array(fc.constantFrom('=', '==', 'in', 'notin-other', 'exists', '!=other'), {
          minLength: 6,
          maxLength: 6,
        }),
        (l, picks, forms) => {
          const entries = Object.entries(l);
          const parts = picks.map((pick, i) => {
            const [k, v] = entries[pick % entries.length] as [string, string];
            switch (forms[i]) {
              case '=':
                return `${k}=${v}`;
              case '==':
                return `${k}==${v}`;
              case 'in':
                return `${k} in (other,${v})`;
              case 'notin-other':
                return v === 'zz-other' ? `${k}` : `${k} notin (zz-other)`;
              case '!=other':
                return v === 'zz-other' ? `${k}` : `${k}!=zz-other`;
              default:
                return k;
            }
          });
          const selector = parts.join(',');
          expect(matchesSelector(parseSelector(selector), l), selector).toBe(true);
          // And its negation on any of the pairs does not match.
          const [k0, v0] = entries[(picks[0] as number) % entries.length] as [string, string];
          expect(matchesSelector(parseSelector(`${selector},${k0}!=${v0}`), l)).toBe(false);
          expect(matchesSelector(parseSelector(`${selector},!${k0}`), l)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('resource patterns', () => {
  const t = (
    resource: string,
    group: string,
    kind: string,
    extra: Partial<NamedType> = {},
  ): NamedType => ({
    group,
    version: 'v1',
    resource,
    kind,
    namespaced: true,
    singular: kind.toLowerCase(),
    ...extra,
  });
  const deployments = t('deployments', 'apps', 'Deployment', { shortNames: ['deploy'] });
  const configmaps = t('configmaps', '', 'ConfigMap', { shortNames: ['cm'] });
  const secrets = t('secrets', '', 'Secret');
  const ingresses = t('ingresses', 'networking.k8s.io', 'Ingress', { shortNames: ['ing'] });
  const events = t('events', '', 'Event', { shortNames: ['ev'] });
  const eventsK8s = t('events', 'events.k8s.io', 'Event', { shortNames: ['ev'] });
  const nodes = t('nodes', '', 'Node', { namespaced: false, shortNames: ['no'] });
  const leases = t('leases', 'coordination.k8s.io', 'Lease');
  const podMetrics = t('pods', 'metrics.k8s.io', 'PodMetrics');
  const all = [
    deployments,
    configmaps,
    secrets,
    ingresses,
    events,
    eventsK8s,
    nodes,
    leases,
    podMetrics,
  ];
  const names = (types: NamedType[]) => types.map(qualifiedResource);

  it('matches a type by plural, singular, kind, short name, plural.group and *', () => {
    for (const p of [
      'deployments',
      'deployment',
      'Deployment',
      'DEPLOYMENTS',
      'deploy',
      'deployments.apps',
      ' deployments.apps ',
      'deploy.apps',
      '*',
    ]) {
      expect(matchesResource(deployments, p), p).toBe(true);
    }
    for (const p of [
      'deployment.extensions',
      'deployments.app',
      'deploys',
      'apps',
      'replicasets',
      'cm',
    ]) {
      expect(matchesResource(deployments, p), p).toBe(false);
    }
    expect(matchesResource(ingresses, 'ingresses.networking.k8s.io')).toBe(true);
    expect(matchesResource(ingresses, 'ing')).toBe(true);
    expect(matchesResource(ingresses, 'ingresses.networking')).toBe(false);
    expect(matchesResource(configmaps, 'cm')).toBe(true);
    expect(matchesResource(configmaps, 'configmaps.apps')).toBe(false);
  });

  it('selects every type but the default exclusions when no filter is given', () => {
    const expected = ['deployments.apps', 'configmaps', 'secrets', 'ingresses.networking.k8s.io'];
    expect(names(selectTypes(all, { include: [], exclude: [] }))).toEqual(expected);
    expect(names(selectTypes(all, { include: ['*'], exclude: [] }))).toEqual(expected);
  });

  it('takes default-excluded types only when explicitly included', () => {
    expect(names(selectTypes(all, { include: ['events'], exclude: [] }))).toEqual([
      'events',
      'events.events.k8s.io',
    ]);
    expect(names(selectTypes(all, { include: ['*', 'nodes'], exclude: [] }))).toEqual([
      'deployments.apps',
      'configmaps',
      'secrets',
      'ingresses.networking.k8s.io',
      'nodes',
    ]);
    expect(
      names(selectTypes(all, { include: ['pods.metrics.k8s.io', 'lease'], exclude: [] })),
    ).toEqual(['leases.coordination.k8s.io', 'pods.metrics.k8s.io']);
  });

  it('limits the selection to included types and drops excluded ones, exclusion winning', () => {
    expect(names(selectTypes(all, { include: ['deploy', 'cm'], exclude: [] }))).toEqual([
      'deployments.apps',
      'configmaps',
    ]);
    expect(names(selectTypes(all, { include: [], exclude: ['secrets', 'ing'] }))).toEqual([
      'deployments.apps',
      'configmaps',
    ]);
    expect(names(selectTypes(all, { include: ['cm', 'secret'], exclude: ['ConfigMap'] }))).toEqual([
      'secrets',
    ]);
    expect(
      names(selectTypes(all, { include: ['events'], exclude: ['events.events.k8s.io'] })),
    ).toEqual(['events']);
    expect(selectTypes(all, { include: [], exclude: ['*'] })).toEqual([]);
  });

  it('accepts patterns that name known types and refuses a typo, naming the flag', () => {
    expect(() =>
      assertPatternsKnown(
        all,
        ['*', 'deploy', 'configmaps', 'events.events.k8s.io'],
        '--include-resources',
      ),
    ).not.toThrow();
    const err = thrown(() =>
      assertPatternsKnown(all, ['cm', 'deploymnets'], '--exclude-resources'),
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe(
      '--exclude-resources: the server has no resource type "deploymnets"',
    );
    expect((err as UserError).hint).toMatch(/kubectl api-resources/);
  });

  it('splits repeated, comma-separated flag values', () => {
    expect(splitList(['a,b', ' c ', '', 'd,,e'])).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(splitList(undefined)).toEqual([]);
  });
});

describe('homeDir', () => {
  it('is HOME, or the OS account home when HOME is unset or empty', () => {
    expect(homeDir({ HOME: '/home/u' })).toBe('/home/u');
    expect(homeDir({ HOME: '' })).toBe(homedir());
    expect(homeDir({})).toBe(homedir());
  });
});

describe('mapLimit', () => {
  it('never runs more than limit at once, and keeps results in input order', async () => {
    for (const limit of [1, 3, 8, 100]) {
      let inFlight = 0;
      let peak = 0;
      const items = Array.from({ length: 25 }, (_, i) => i);
      const out = await mapLimit(items, limit, async (item, index) => {
        expect(index).toBe(item);
        inFlight++;
        peak = Math.max(peak, inFlight);
        // Later items finish sooner, so completion order differs from input order.
        await sleep((25 - item) % 7);
        inFlight--;
        return item * 2;
      });
      expect(out).toEqual(items.map((i) => i * 2));
      expect(peak).toBe(Math.min(limit, items.length));
    }
  });

  it('still runs every item, one at a time, when the limit is below 1', async () => {
    for (const limit of [0, -1, Number.NaN, 0.5]) {
      let inFlight = 0;
      let peak = 0;
      const out = await mapLimit([1, 2, 3], limit, async (i) => {
        peak = Math.max(peak, ++inFlight);
        await sleep(1);
        inFlight--;
        return i;
      });
      expect(out, String(limit)).toEqual([1, 2, 3]);
      expect(peak).toBe(1);
    }
  });

  it('returns an empty array for no items without calling fn', async () => {
    let called = false;
    await expect(
      mapLimit([], 4, async () => {
        called = true;
      }),
    ).resolves.toEqual([]);
    expect(called).toBe(false);
  });

  it('rejects with the first failure and starts no new items after it', async () => {
    const started: number[] = [];
    const boom = new Error('item 3 failed');
    const run = mapLimit(
      Array.from({ length: 20 }, (_, i) => i),
      2,
      async (i) => {
        started.push(i);
        await sleep(1);
        if (i === 3) throw boom;
        return i;
      },
    );
    await expect(run).rejects.toBe(boom);
    await sleep(20);
    expect(Math.max(...started)).toBeLessThanOrEqual(4);
  });
});
