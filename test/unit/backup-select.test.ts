// Which types a backup lists: an --exclude-resources name the cluster does not serve is an
// error on the command line and a warning in a schedule's run (its CRD may be gone since).
import { describe, expect, it } from 'vitest';
import { listableTypes } from '../../src/backup/select.js';
import type { DiscoveredType } from '../../src/kube/discovery.js';
import { selection } from './builders.js';

const t = (group: string, resource: string, kind: string): DiscoveredType => ({
  group,
  version: 'v1',
  resource,
  kind,
  namespaced: true,
  verbs: ['get', 'list'],
  shortNames: [],
  singular: kind.toLowerCase(),
});
const TYPES = [t('', 'configmaps', 'ConfigMap'), t('', 'secrets', 'Secret')];

describe('listableTypes and unknown --exclude-resources names', () => {
  const sel = selection(['shop'], { excludeResources: ['widgets.example.com', 'secrets'] });

  it('refuses a name the server does not serve (the command line: most likely a typo)', () => {
    expect(() => listableTypes(TYPES, sel)).toThrow(
      '--exclude-resources: the server has no resource type "widgets.example.com"',
    );
  });

  it("reports the name and goes on when asked to (a schedule's run), still excluding the known ones", () => {
    const unknown: string[] = [];
    const types = listableTypes(TYPES, sel, (p) => unknown.push(p));
    expect(unknown).toEqual(['widgets.example.com']);
    expect(types.map((x) => x.resource)).toEqual(['configmaps']);
  });

  it("still refuses an unknown --include-resources name in a schedule's run", () => {
    expect(() =>
      listableTypes(TYPES, selection(['shop'], { includeResources: ['widgets'] }), () => {}),
    ).toThrow('--include-resources: the server has no resource type "widgets"');
  });
});
