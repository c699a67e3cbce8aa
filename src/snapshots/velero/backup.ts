// velero-backup.json (a velero.io/v1 Backup as Velero stored it) read into our manifest's
// terms: when, what was selected, the phase. Whoever can write the bucket wrote it, so each
// field read is checked first; a file that fails is damaged, as a bad snapshot.json is.
// Pure: no I/O.
import type { Selection, SnapshotManifest } from '../../core/types.js';
import { SNAPSHOT_FORMAT_VERSION } from '../../core/types.js';
import { DamagedManifestError } from '../manifest.js';
import { contentsKey, logKey, METADATA_FILE } from './layout.js';

/** The phases Velero restores from (pkg/restore: a Failed backup is refused). */
export const RESTORABLE_PHASES = new Set(['Completed', 'PartiallyFailed']);

/** Our version, on a Backup we wrote (write.ts). */
export const TOOL_VERSION_ANNOTATION = 'kubectl-snapshot/tool-version';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function damaged(name: string, problem: string): DamagedManifestError {
  const e = new DamagedManifestError(
    name,
    problem,
    'the Velero backup may still be readable by Velero; check it with: velero backup describe',
  );
  e.message = `${METADATA_FILE} of Velero backup "${name}" is damaged: ${problem}`;
  return e;
}

function strings(name: string, v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw damaged(name, `${field} is not a list of strings`);
  return v;
}

function count(v: unknown): number {
  return Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : 0;
}

function time(name: string, v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v)))
    throw damaged(name, `${field} is not a time`);
  return v;
}

/** A metav1.LabelSelector in kubectl's syntax (`a=b,c in (d,e),!f`); undefined when empty. */
export function labelSelectorText(name: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw damaged(name, 'spec.labelSelector is not an object');
  const parts: string[] = [];
  const labels = v.matchLabels ?? {};
  if (!isObject(labels)) throw damaged(name, 'spec.labelSelector.matchLabels is not an object');
  for (const [k, val] of Object.entries(labels)) parts.push(`${k}=${String(val)}`);
  for (const e of strictArray(name, v.matchExpressions)) {
    if (!isObject(e) || typeof e.key !== 'string')
      throw damaged(name, 'spec.labelSelector.matchExpressions has an entry without a key');
    const values = strings(name, e.values, 'spec.labelSelector.matchExpressions[].values');
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${values.join(',')})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${values.join(',')})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
      default:
        throw damaged(name, `spec.labelSelector has operator ${JSON.stringify(e.operator)}`);
    }
  }
  return parts.length > 0 ? parts.join(',') : undefined;
}

function strictArray(name: string, v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw damaged(name, 'spec.labelSelector.matchExpressions is not a list');
  return v;
}

/** Velero's selection (spec) in ours; `*` is every namespace or resource. */
function selectionOf(name: string, spec: Json): Selection {
  const namespaces = strings(name, spec.includedNamespaces, 'spec.includedNamespaces');
  const resources = strings(name, spec.includedResources, 'spec.includedResources');
  const selector = labelSelectorText(name, spec.labelSelector);
  const all = namespaces.length === 0 || namespaces.includes('*');
  return {
    namespaces: all ? [] : namespaces,
    allNamespaces: all,
    excludeNamespaces: strings(name, spec.excludedNamespaces, 'spec.excludedNamespaces'),
    ...(selector !== undefined ? { labelSelector: selector } : {}),
    includeResources: resources.filter((r) => r !== '*'),
    excludeResources: strings(name, spec.excludedResources, 'spec.excludedResources'),
    // What the tarball holds is restorable whatever the policy was; restore's own
    // --include-cluster-resources decides what of it is taken.
    includeClusterResources: spec.includeClusterResources === false ? 'false' : 'true',
  };
}

/**
 * Our manifest for a Velero backup from velero-backup.json alone: what `list` shows. Its
 * `resources` are empty and its archive's size and sha256 unknown until the tarball has been
 * read (see archive.ts); `archiveSize` is the tarball's size as listed, when known.
 */
export function manifestFromBackup(
  raw: Buffer,
  name: string,
  archiveSize = 0,
): SnapshotManifest & { velero: NonNullable<SnapshotManifest['velero']> } {
  let b: unknown;
  try {
    b = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw damaged(name, `not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(b) || b.apiVersion !== 'velero.io/v1' || b.kind !== 'Backup')
    throw damaged(name, 'not a velero.io/v1 Backup');
  const meta = isObject(b.metadata) ? b.metadata : {};
  if (meta.name !== name) throw damaged(name, `it names backup ${JSON.stringify(meta.name)}`);
  const spec = isObject(b.spec) ? b.spec : {};
  const status = isObject(b.status) ? b.status : {};
  if (typeof status.phase !== 'string' || status.phase === '')
    throw damaged(name, 'status.phase is missing');
  const labels: Record<string, string> = {};
  if (isObject(meta.labels))
    for (const [k, v] of Object.entries(meta.labels)) if (typeof v === 'string') labels[k] = v;
  const annotations = isObject(meta.annotations) ? meta.annotations : {};
  const k8sVersion = annotations['velero.io/source-cluster-k8s-gitversion'];
  const created = time(name, meta.creationTimestamp, 'metadata.creationTimestamp');
  const startedAt =
    time(name, status.startTimestamp, 'status.startTimestamp') ??
    created ??
    new Date(0).toISOString();
  const completedAt =
    time(name, status.completionTimestamp, 'status.completionTimestamp') ?? startedAt;
  const expiresAt = time(name, status.expiration, 'status.expiration');
  const formatVersion = typeof status.formatVersion === 'string' ? status.formatVersion : '1.0.0';
  const selection = selectionOf(name, spec);
  const progress = isObject(status.progress) ? status.progress : {};
  const errors = count(status.errors);
  const warnings = count(status.warnings);
  const phase = status.phase;
  return {
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    name,
    toolVersion:
      typeof annotations[TOOL_VERSION_ANNOTATION] === 'string'
        ? `kubectl-snapshot ${annotations[TOOL_VERSION_ANNOTATION]} (Velero backup format ${formatVersion})`
        : `velero (backup format ${formatVersion})`,
    // Velero records the server's version, not its address.
    cluster: { server: '-', version: typeof k8sVersion === 'string' ? k8sVersion : '-' },
    selection,
    namespaces: selection.namespaces,
    startedAt,
    completedAt,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    labels,
    resources: [],
    totalObjects: count(progress.itemsBackedUp),
    ...(phase === 'Completed' || phase === 'PartiallyFailed' ? { phase } : {}),
    warnings: [
      ...(errors > 0
        ? [{ message: `Velero recorded ${errors} error(s); see: velero backup logs ${name}` }]
        : []),
      ...(warnings > 0
        ? [{ message: `Velero recorded ${warnings} warning(s); see: velero backup logs ${name}` }]
        : []),
    ],
    // Velero records no checksum: size and sha256 are those of the bytes read (archive.ts).
    archive: { key: contentsKey(name), size: archiveSize, sha256: '-', encrypted: false },
    log: { key: logKey(name) },
    velero: { phase, formatVersion, errors, warnings, notRestored: 0, preferredVersions: false },
  };
}
