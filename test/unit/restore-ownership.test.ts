import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/core/types.js';
import {
  type FieldSet,
  type ManagedFieldsEntry,
  ownersOutcome,
  ownersPatchList,
  restoredOwners,
  wellFormed,
} from '../../src/restore/ownership.js';
import { kubeObject } from './builders.js';

function entry(manager: string, fieldsV1: FieldSet, more: Partial<ManagedFieldsEntry> = {}) {
  return {
    manager,
    operation: 'Apply',
    apiVersion: 'apps/v1',
    time: '2026-01-01T00:00:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1,
    ...more,
  } as ManagedFieldsEntry;
}

const operatorFields: FieldSet = {
  'f:spec': {
    'f:replicas': {},
    'f:template': {
      'f:spec': {
        'f:containers': {
          'k:{"name":"c"}': { '.': {}, 'f:name': {}, 'f:image': {}, 'f:env': {} },
        },
      },
    },
  },
};

function deployment(replicas: number, image: string, managedFields?: unknown[]): KubeObject {
  return kubeObject(
    'apps/v1',
    'Deployment',
    'web',
    'shop',
    {
      spec: {
        replicas,
        template: {
          spec: { containers: [{ name: 'c', image, env: [{ name: 'A', value: '1' }] }] },
        },
      },
    },
    managedFields ? { managedFields } : {},
  );
}

describe('the field owners a restored object gets back', () => {
  it('keeps an unchanged object’s managers as backed up', () => {
    const archived = deployment(2, 'r/web:1', [entry('my-operator', operatorFields)]);
    const owners = restoredOwners({ archived, sent: deployment(2, 'r/web:1') });
    expect(owners).toEqual([entry('my-operator', operatorFields)]);
  });

  it('gives the fields a transform changed to kubectl-snapshot, not to their old manager', () => {
    const archived = deployment(2, 'r/web:1', [entry('my-operator', operatorFields)]);
    const created = entry('kubectl-snapshot', operatorFields, { operation: 'Update' });
    const owners = restoredOwners({ archived, sent: deployment(0, 'r/web:1'), created });
    const mine = owners?.find((e) => e.manager === 'kubectl-snapshot');
    const theirs = owners?.find((e) => e.manager === 'my-operator');
    expect(mine?.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(theirs?.fieldsV1['f:spec']).not.toHaveProperty('f:replicas');
    expect(theirs?.fieldsV1['f:spec']).toHaveProperty('f:template');
  });

  it('drops claims on fields the restore removed (an owner reference, status)', () => {
    const archived = deployment(2, 'r/web:1', [
      entry(
        'kube-controller-manager',
        { 'f:metadata': { 'f:ownerReferences': { 'k:{"uid":"1"}': {} } } },
        { operation: 'Update' },
      ),
      entry(
        'kube-controller-manager',
        { 'f:status': { 'f:replicas': {} } },
        { operation: 'Update', subresource: 'status' },
      ),
      entry('my-operator', operatorFields),
    ]);
    archived.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: '1' }];
    const owners = restoredOwners({ archived, sent: deployment(2, 'r/web:1') });
    expect(owners?.map((e) => e.manager)).toEqual(['my-operator']);
  });

  it('leaves out malformed entries and the restore’s own earlier entry', () => {
    const archived = deployment(2, 'r/web:1', [
      entry('kubectl-snapshot', operatorFields, { operation: 'Update' }),
      {
        manager: 'x',
        operation: 'Patch',
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {},
      },
      {
        manager: '',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {},
      },
      {
        manager: 'y',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV2',
        fieldsV1: {},
      },
      'not an entry',
    ]);
    expect(restoredOwners({ archived, sent: deployment(2, 'r/web:1') })).toBeUndefined();
  });

  it('answers nothing for a snapshot without managedFields (an older backup)', () => {
    expect(
      restoredOwners({ archived: deployment(2, 'a'), sent: deployment(2, 'a') }),
    ).toBeUndefined();
  });

  it('keeps an entry of another apiVersion as it is, for the server to convert', () => {
    const old = entry(
      'my-operator',
      { 'f:spec': { 'f:gone': {} } },
      { apiVersion: 'apps/v1beta2' },
    );
    const archived = deployment(2, 'a', [old]);
    expect(restoredOwners({ archived, sent: deployment(2, 'a') })).toEqual([old]);
  });

  it('finds list elements by their keys, set values and indexes', () => {
    const obj = kubeObject('v1', 'Thing', 't', 'ns', {
      spec: { ports: [{ port: 80, protocol: 'TCP', name: 'http' }], tags: ['a'], args: ['x'] },
    });
    const fields = {
      'f:spec': {
        'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { 'f:name': {} } },
        'f:tags': { 'v:"a"': {} },
        'f:args': { 'i:0': {} },
      },
    };
    const archived = {
      ...obj,
      metadata: { ...obj.metadata, managedFields: [entry('m', fields, { apiVersion: 'v1' })] },
    };
    expect(restoredOwners({ archived, sent: obj })?.[0]?.fieldsV1).toEqual(fields);
  });

  it('checks entries as the API server validates them', () => {
    expect(wellFormed(entry('m', {}))).toBe(true);
    expect(wellFormed({ ...entry('m', {}), time: null, subresource: null })).toBe(true);
    expect(wellFormed({ ...entry('m', {}), fieldsV1: { 'f:a': 'x' } })).toBe(false);
    expect(wellFormed({ ...entry('m', {}), manager: 'm'.repeat(129) })).toBe(false);
  });
});

describe('the ownership patch', () => {
  it('keeps what other managers wrote since the create, over the backed-up entry of that key', () => {
    const backedUp = entry('kcm', { 'f:metadata': {} }, { operation: 'Update' });
    const now = entry('kcm', { 'f:metadata': { 'f:annotations': {} } }, { operation: 'Update' });
    const restoreOwn = entry('kubectl-snapshot', {}, { operation: 'Update' });
    const list = ownersPatchList(
      [entry('my-operator', operatorFields), backedUp],
      [now, restoreOwn],
    );
    expect(list.map((e) => e.manager)).toEqual(['my-operator', 'kcm']);
    expect(list[1]).toBe(now);
  });

  it('says which managers the server did not keep', () => {
    const sent = [
      entry('a', {}),
      entry('b', {}),
      entry('kubectl-snapshot', {}, { operation: 'Update' }),
    ];
    const answer = (kept: ManagedFieldsEntry[]) => deployment(1, 'x', kept);
    expect(ownersOutcome(sent, answer([entry('a', {}), entry('b', {})]))).toBeUndefined();
    expect(ownersOutcome(sent, answer([entry('a', {})]))).toBe(
      'field owners not restored: the API server dropped the entries of b',
    );
    expect(ownersOutcome(sent, answer([]))).toMatch(
      /^field owners not restored: the API server kept none of the 2 entries \(a, b\)/,
    );
  });
});
