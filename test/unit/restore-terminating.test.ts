// Objects being deleted (terminating.ts) and how the report tells the user about them and
// about the other outcomes a plain "created" line would hide.
import { describe, expect, it } from 'vitest';
import { restoreReportText } from '../../src/cli/commands/restore-report.js';
import type { KubeObject } from '../../src/core/types.js';
import { type ObjectResult, type RestoreReport, tally } from '../../src/restore/results.js';
import {
  crdNameOf,
  deletingNotValidated,
  deletionOf,
  holdersText,
  stillDeletingMessage,
} from '../../src/restore/terminating.js';

const object = (kind: string, meta: Record<string, unknown>, rest: object = {}): KubeObject =>
  ({ apiVersion: 'v1', kind, metadata: { name: 'x', ...meta }, ...rest }) as KubeObject;

describe('what holds an object being deleted', () => {
  it('an object without a deletionTimestamp is not being deleted, finalizers or not', () => {
    expect(deletionOf(object('ConfigMap', { finalizers: ['example.com/hold'] }))).toBeUndefined();
  });

  it('an object with a deletionTimestamp is held by its finalizers', () => {
    const o = object('ConfigMap', {
      deletionTimestamp: '2026-12-03T06:00:00Z',
      finalizers: ['example.com/hold', 'example.com/hold', 7],
    });
    expect(deletionOf(o)).toEqual({ finalizers: ['example.com/hold'], remaining: [] });
  });

  it('a Terminating namespace names its spec finalizers and the content that remains', () => {
    const ns = object(
      'Namespace',
      {},
      {
        spec: { finalizers: ['kubernetes'] },
        status: {
          phase: 'Terminating',
          conditions: [
            { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', message: 'all fine' },
            {
              type: 'NamespaceContentRemaining',
              status: 'True',
              message: 'Some resources are remaining: widgets.example.com has 1 resource instances',
            },
          ],
        },
      },
    );
    const d = deletionOf(ns);
    expect(d).toEqual({
      finalizers: ['kubernetes'],
      remaining: ['Some resources are remaining: widgets.example.com has 1 resource instances'],
    });
    expect(holdersText(d as NonNullable<typeof d>)).toBe(
      'held by finalizer(s) kubernetes; Some resources are remaining: widgets.example.com has 1 resource instances',
    );
  });

  it('says how long it waited and who holds the object when the wait runs out', () => {
    expect(stillDeletingMessage({ finalizers: ['a/b'], remaining: [] }, 3000)).toBe(
      'still being deleted after 3s (--wait-terminating): held by finalizer(s) a/b',
    );
    expect(stillDeletingMessage({ finalizers: [], remaining: [] }, 120_000)).toBe(
      'still being deleted after 120s (--wait-terminating): no finalizer named',
    );
  });

  it('a dry run says what a real restore would do, waiting or not', () => {
    const d = { finalizers: ['a/b'], remaining: [] };
    expect(deletingNotValidated(d, 120_000)).toBe(
      'being deleted (held by finalizer(s) a/b); a real restore waits up to 120s for it to go, then creates it',
    );
    expect(deletingNotValidated(d, 0)).toContain('--wait-terminating 0 would fail it');
  });

  it('names the CRD of a custom resource type as plural.group', () => {
    expect(crdNameOf({ resource: 'kafkas', group: 'kafka.strimzi.io' })).toBe(
      'kafkas.kafka.strimzi.io',
    );
  });
});

const res = (
  outcome: ObjectResult['outcome'],
  name: string,
  more: Partial<ObjectResult> = {},
): ObjectResult => ({
  resource: 'configmaps',
  kind: 'ConfigMap',
  namespace: 'shop',
  name,
  outcome,
  ...more,
});

const reportOf = (results: ObjectResult[], dryRun?: 'client' | 'server'): RestoreReport => ({
  snapshot: 'shop-1',
  ...(dryRun ? { dryRun } : {}),
  results,
  totals: tally(results),
});

describe('the restore report', () => {
  it('counts objects not validated in the totals line and groups them by reason', () => {
    const text = restoreReportText(
      reportOf(
        [
          res('would-create', 'a'),
          res('not-validated', 'b', { message: 'namespace shop does not exist yet' }),
          res('not-validated', 'c', { message: 'namespace shop does not exist yet' }),
          res('not-validated', 'd', { message: 'being deleted (held by finalizer(s) a/b)' }),
        ],
        'server',
      ),
      'restore',
    );
    expect(text).toContain(
      '3 object(s) not validated:\n' +
        '  configmaps/b -n shop, configmaps/c -n shop: namespace shop does not exist yet\n' +
        '  configmaps/d -n shop: being deleted (held by finalizer(s) a/b)\n',
    );
    expect(text).toContain(
      '\n1 to create, 0 identical, 0 differ, 0 skipped, 3 not validated, 0 failed\n',
    );
  });

  it('prints a field one side lacks as (not set), not undefined', () => {
    const text = restoreReportText(
      reportOf([
        res('exists-differs', 'a', {
          diff: [
            { path: 'data.mode', before: 'fast', after: undefined },
            { path: 'data.level', before: undefined, after: '3' },
          ],
        }),
      ]),
      'diff',
    );
    expect(text).toContain('data.mode: cluster has "fast", snapshot has (not set)');
    expect(text).toContain('data.level: cluster has (not set), snapshot has "3"');
    expect(text).not.toContain('undefined');
  });

  it('tells a namespace created bare apart from one restored from the snapshot', () => {
    const ns = (name: string, bare: boolean): ObjectResult => ({
      resource: 'namespaces',
      kind: 'Namespace',
      name,
      outcome: 'created',
      ...(bare ? { bare: true as const } : {}),
    });
    const text = restoreReportText(reportOf([ns('shop', true), ns('web', false)]), 'restore');
    expect(text).toContain(
      '1 namespace(s) created bare, without labels or annotations (the snapshot holds no Namespace object for them): shop\n',
    );
    expect(restoreReportText(reportOf([ns('web', false)]), 'restore')).not.toContain('bare');
  });
});
