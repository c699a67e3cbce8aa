// Velero's tarball is untrusted input, read through the same checks as ours: bounded sizes and
// safe paths (archive/reader.ts), each object against what its path says and every count
// against the backup's resource list. Velero records no checksum, so the first read (the
// index, which also learns the resource names only the paths carry) records the sha256 of the
// bytes it read, and the second (the restore's) must read the same bytes.
import { gunzipSync } from 'node:zlib';
import { objectEntryPath } from '../../archive/format.js';
import { type ArchiveEntry, readArchive } from '../../archive/reader.js';
import { CorruptArchiveError, errorMessage } from '../../core/errors.js';
import { parseJson } from '../../core/json.js';
import type { KubeObject, ResourceCount, SnapshotManifest } from '../../core/types.js';
import { parseApiVersion } from '../../core/types.js';
import { ArchiveContentsCheck, MAX_ENTRY_BYTES } from '../contents.js';
import type { CheckedObject } from '../repository.js';
import { NOT_RESTORED, parseVeleroEntryPath, VERSION_ENTRY, type VeleroEntry } from './entries.js';

/** A resource list is a few bytes per object; more than this inflated is not one. */
const MAX_RESOURCE_LIST = 64 * 1024 * 1024;
/** The first read has no recorded size to hold the tarball to: this many times its stored size… */
const INFLATE_RATIO = 200;
/** …and never less than this. */
const INFLATE_MIN = 64 * 1024 * 1024;
/** Slack over the inflated size the first read measured (padding, rounding). */
const INFLATED_MARGIN = 64 * 1024;

function corrupt(name: string, problem: string): CorruptArchiveError {
  return new CorruptArchiveError(`Velero backup "${name}" is corrupt: ${problem}`);
}

/** `<name>-resource-list.json.gz`: `apiVersion/Kind` → the `ns/name` or `name` of each object. */
export function parseResourceList(name: string, gz: Buffer): Map<string, string[]> {
  let list: unknown;
  try {
    list = JSON.parse(gunzipSync(gz, { maxOutputLength: MAX_RESOURCE_LIST }).toString('utf8'));
  } catch (err) {
    throw corrupt(name, `its resource list is not gzip'd JSON (${errorMessage(err)})`);
  }
  if (typeof list !== 'object' || list === null || Array.isArray(list))
    throw corrupt(name, 'its resource list is not a JSON object');
  const out = new Map<string, string[]>();
  for (const [key, items] of Object.entries(list)) {
    if (!Array.isArray(items) || !items.every((i) => typeof i === 'string'))
      throw corrupt(name, `its resource list entry ${JSON.stringify(key)} is not a list of names`);
    out.set(key, items);
  }
  return out;
}

/** What the index read learned, recorded in the manifest for the second read. */
export interface VeleroIndex {
  resources: ResourceCount[];
  namespaces: string[];
  totalObjects: number;
  /** Objects of the types Velero never restores (entries.ts NOT_RESTORED). */
  notRestored: number;
  /** The archive has `-preferredversion` entries: they are the ones used. */
  preferred: boolean;
  inflatedSize: number;
}

interface Seen {
  entry: VeleroEntry;
  apiVersion: string;
  kind: string;
}

function groupOf(resource: string): string {
  const dot = resource.indexOf('.');
  return dot < 0 ? '' : resource.slice(dot + 1);
}

/** Parses an entry and checks it holds the object its path names. */
function objectOf(backup: string, e: ArchiveEntry, loc: VeleroEntry): KubeObject {
  let o: KubeObject;
  try {
    o = parseJson(e.data.toString('utf8')) as KubeObject;
  } catch (err) {
    throw corrupt(backup, `entry ${e.name} is not valid JSON (${errorMessage(err)})`);
  }
  const meta = o?.metadata;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.apiVersion !== 'string' ||
    typeof o.kind !== 'string' ||
    typeof meta !== 'object' ||
    meta === null ||
    meta.name !== loc.name ||
    (meta.namespace || undefined) !== loc.namespace
  )
    throw corrupt(backup, `entry ${e.name} does not hold the object its path names`);
  const { group, version } = parseApiVersion(o.apiVersion);
  if (group !== groupOf(loc.resource) || (loc.version !== undefined && loc.version !== version))
    throw corrupt(
      backup,
      `entry ${e.name} holds a ${o.apiVersion} ${o.kind}, not what its path names`,
    );
  return o;
}

/**
 * The first read: every entry checked, the object types learned from the entries used (their
 * paths carry the resource names, the resource list only kinds), and the result checked
 * against the resource list, object by object.
 */
export async function indexArchive(
  backup: string,
  stream: NodeJS.ReadableStream & import('node:stream').Readable,
  storedSize: number,
  resourceList: Map<string, string[]>,
): Promise<VeleroIndex> {
  const listed = [...resourceList.values()].reduce((n, items) => n + items.length, 0);
  const seen: Record<'classic' | 'preferred', Seen[]> = { classic: [], preferred: [] };
  const names = new Set<string>();
  let version: string | undefined;
  const { inflatedBytes } = await readArchive(
    stream,
    (e) => {
      if (names.has(e.name)) throw corrupt(backup, `entry ${e.name} appears twice`);
      names.add(e.name);
      if (e.name === VERSION_ENTRY) {
        version = e.data.toString('utf8').trim();
        return;
      }
      const loc = parseVeleroEntryPath(e.name);
      if (!loc) throw corrupt(backup, `unexpected entry ${JSON.stringify(e.name)}`);
      if (loc.variant === 'other') return; // another API version: never restored
      const list = seen[loc.variant];
      if (list.length >= listed)
        throw corrupt(backup, `more objects than the ${listed} its resource list names`);
      const o = objectOf(backup, e, loc);
      list.push({ entry: loc, apiVersion: o.apiVersion, kind: o.kind });
    },
    {
      maxEntryBytes: MAX_ENTRY_BYTES,
      maxInflatedBytes: Math.max(INFLATE_MIN, storedSize * INFLATE_RATIO),
    },
  );
  if (version === undefined) throw corrupt(backup, `missing ${VERSION_ENTRY}`);
  if (!/^1\.\d+(\.\d+)?$/.test(version))
    throw corrupt(
      backup,
      `its format version is ${JSON.stringify(version.slice(0, 20))}; this version reads 1.x`,
    );
  const preferred = seen.preferred.length > 0;
  return {
    ...summarize(backup, preferred ? seen.preferred : seen.classic, resourceList, listed),
    preferred,
    inflatedSize: inflatedBytes,
  };
}

/** The types, counts and namespaces of the entries used, checked against the resource list. */
function summarize(
  backup: string,
  used: Seen[],
  resourceList: Map<string, string[]>,
  listed: number,
): Omit<VeleroIndex, 'preferred' | 'inflatedSize'> {
  const types = new Map<string, ResourceCount>();
  const namespaces = new Set<string>();
  const remaining = new Map([...resourceList].map(([k, items]) => [k, new Set(items)]));
  let notRestored = 0;
  for (const { entry, apiVersion, kind } of used) {
    const namespaced = entry.namespace !== undefined;
    const t = types.get(entry.resource);
    if (t && (t.kind !== kind || t.apiVersion !== apiVersion || t.namespaced !== namespaced))
      throw corrupt(
        backup,
        `${objectEntryPath(entry)} is a ${apiVersion} ${kind}, other ${entry.resource} entries a ${t.apiVersion} ${t.kind}`,
      );
    const item = namespaced ? `${entry.namespace}/${entry.name}` : entry.name;
    const key = `${apiVersion}/${kind}`;
    if (!remaining.get(key)?.delete(item))
      throw corrupt(
        backup,
        `its archive holds ${key} ${item}, which its resource list does not name`,
      );
    if (NOT_RESTORED.has(entry.resource)) {
      notRestored++;
      continue;
    }
    if (t) t.count++;
    else
      types.set(entry.resource, {
        resource: entry.resource,
        apiVersion,
        kind,
        namespaced,
        count: 1,
      });
    if (entry.namespace !== undefined) namespaces.add(entry.namespace);
    if (entry.resource === 'namespaces' && !namespaced) namespaces.add(entry.name);
  }
  for (const [key, items] of remaining)
    if (items.size > 0)
      throw corrupt(
        backup,
        `its resource list names ${resourceList.get(key)?.length} ${key} objects, its archive has ${(resourceList.get(key)?.length ?? 0) - items.size} (missing: ${[...items].slice(0, 3).join(', ')})`,
      );
  const resources = [...types.values()].sort((a, b) => a.resource.localeCompare(b.resource));
  return {
    resources,
    namespaces: [...namespaces].sort(),
    totalObjects: listed - notRestored,
    notRestored,
  };
}

/** How much the second read may inflate: what the first one measured. */
export function secondReadLimits(m: SnapshotManifest): {
  maxInflatedBytes: number;
  maxEntryBytes: number;
} {
  return {
    maxInflatedBytes: (m.archive.inflatedSize ?? 0) + INFLATED_MARGIN,
    maxEntryBytes: MAX_ENTRY_BYTES,
  };
}

/**
 * The second read's check: the entries used go through our own ArchiveContentsCheck (as our
 * entry names), against the manifest the index made; entries not used are skipped.
 */
export class VeleroContentsCheck {
  private readonly check: ArchiveContentsCheck;

  constructor(private readonly m: SnapshotManifest) {
    // Every cluster object the index found is declared; restore's own flag selects among them.
    this.check = new ArchiveContentsCheck({
      ...m,
      selection: { ...m.selection, includeClusterResources: 'true' },
    });
  }

  get objects(): number {
    return this.check.objects;
  }

  entry(e: ArchiveEntry): CheckedObject | undefined {
    if (e.name === VERSION_ENTRY) return this.check.entry(VERSION_ENTRY, e.data);
    const loc = parseVeleroEntryPath(e.name);
    if (!loc) throw corrupt(this.m.name, `unexpected entry ${JSON.stringify(e.name)}`);
    const used = this.m.velero?.preferredVersions ? 'preferred' : 'classic';
    if (loc.variant !== used || NOT_RESTORED.has(loc.resource)) return undefined;
    return this.check.entry(objectEntryPath(loc), e.data);
  }

  finish(): void {
    this.check.finish();
  }
}
