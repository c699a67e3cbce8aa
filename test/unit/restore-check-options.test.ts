import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import type { NamedType } from '../../src/core/resources.js';
import type { ResourceCount } from '../../src/core/types.js';
import { checkAgainstSnapshot } from '../../src/restore/check-options.js';
import { wholeSnapshot } from './builders.js';

const kafkas: ResourceCount = {
  resource: 'kafkas.kafka.strimzi.io',
  apiVersion: 'kafka.strimzi.io/v1beta2',
  kind: 'Kafka',
  namespaced: true,
  count: 1,
};
const manifest = (resources: ResourceCount[]) => ({
  name: 'nightly',
  namespaces: ['streams'],
  resources,
});
const served: NamedType = {
  group: 'kafka.strimzi.io',
  version: 'v1beta2',
  resource: 'kafkas',
  kind: 'Kafka',
  namespaced: true,
  singular: 'kafka',
  shortNames: ['k'],
};

describe('checkAgainstSnapshot', () => {
  it('accepts a short name the snapshot recorded, with no cluster, and returns it for the plan', async () => {
    const names = await checkAgainstSnapshot(
      manifest([{ ...kafkas, singular: 'kafka', shortNames: ['k'] }]),
      { ...wholeSnapshot(), includeResources: ['k'] },
    );
    expect(names.get('kafkas.kafka.strimzi.io')).toEqual({ singular: 'kafka', shortNames: ['k'] });
  });

  it("resolves a short name of an older snapshot's type through the cluster's discovery", async () => {
    let asked = 0;
    const names = await checkAgainstSnapshot(
      manifest([kafkas]),
      { ...wholeSnapshot(), includeResources: ['k'] },
      async () => {
        asked++;
        return [served];
      },
    );
    expect(asked).toBe(1);
    expect(names.get('kafkas.kafka.strimzi.io')?.shortNames).toEqual(['k']);
  });

  it('refuses a name neither the snapshot nor the cluster knows', async () => {
    const check = checkAgainstSnapshot(
      manifest([kafkas]),
      { ...wholeSnapshot(), includeResources: ['kt'] },
      async () => [served],
    );
    await expect(check).rejects.toBeInstanceOf(UserError);
    await expect(check).rejects.toThrow(
      /--include-resources: neither snapshot "nightly" nor the server has a resource type "kt"/,
    );
  });
});
