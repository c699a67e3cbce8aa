// The restore's options checked against snapshot.json before the archive is read: a mistake
// found here costs no download.
import { UserError } from '../core/errors.js';
import {
  type NamedType,
  type TypeNames,
  typeNamesOf,
  unknownPatterns,
  withNames,
} from '../core/resources.js';
import { resourceType, type SnapshotManifest } from '../core/types.js';
import type { RestoreOptions } from './plan.js';

/** `a, b, c`, or the first ten and how many more. */
function listed(names: readonly string[]): string {
  const shown = names.slice(0, 10).join(', ');
  return names.length > 10 ? `${shown}, … (${names.length} in all)` : shown || 'none';
}

/**
 * What snapshot.json alone shows to be a mistake in the options, checked before the archive is
 * read: a namespace (-n, --include-namespaces) or a --namespace-mapping source the snapshot does
 * not hold, and an --include-resources / --exclude-resources name that matches no type of the
 * snapshot, nor one of the server's when there is a server (`served`, asked only then). Left
 * alone, each would restore something else than asked: nothing, the original namespace, or
 * (a typo in --exclude-resources) the very objects meant to stay out. Returns the other names of
 * the types (short names, singular) the filters were resolved with, for the plan.
 */
export async function checkAgainstSnapshot(
  manifest: Pick<SnapshotManifest, 'name' | 'namespaces' | 'resources'>,
  opts: RestoreOptions,
  served?: () => Promise<NamedType[]>,
): Promise<TypeNames> {
  let names = typeNamesOf(manifest.resources);
  const held = new Set(manifest.namespaces);
  const holds = `the snapshot's namespaces: ${listed(manifest.namespaces)}`;
  for (const ns of opts.namespaces) {
    if (!held.has(ns))
      throw new UserError(`namespace "${ns}" is not in snapshot "${manifest.name}"`, holds);
  }
  for (const [from, to] of opts.mapping) {
    if (!held.has(from))
      throw new UserError(
        `--namespace-mapping ${from}=${to}: namespace "${from}" is not in snapshot "${manifest.name}"`,
        `${holds}; OLD names a namespace as it was backed up`,
      );
  }
  const types = manifest.resources.map((r) =>
    withNames(resourceType(r.resource, r.apiVersion, r.kind, r.namespaced), names),
  );
  const flags = [
    ['--include-resources', unknownPatterns(types, opts.includeResources)],
    ['--exclude-resources', unknownPatterns(types, opts.excludeResources)],
  ] as const;
  if (flags.every(([, unknown]) => unknown.length === 0)) return names;
  const servedTypes = served ? await served() : undefined;
  // A name only the cluster knows (a short name an older snapshot did not record) selects
  // what it names there: the plan must know it too.
  if (servedTypes) names = typeNamesOf(manifest.resources, servedTypes);
  for (const [flag, unknown] of flags) {
    const [p] = servedTypes ? unknownPatterns(servedTypes, unknown) : unknown;
    if (p === undefined) continue;
    const snapshotTypes = `the snapshot's resource types: ${listed(manifest.resources.map((r) => r.resource))}`;
    throw servedTypes
      ? new UserError(
          `${flag}: neither snapshot "${manifest.name}" nor the server has a resource type "${p}"`,
          `${snapshotTypes}; kubectl api-resources lists the server's`,
        )
      : new UserError(
          `${flag}: snapshot "${manifest.name}" has no resource type "${p}"`,
          snapshotTypes,
        );
  }
  return names;
}
