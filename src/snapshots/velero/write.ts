// What a backup of ours writes into a Velero backup storage location, decided from our
// manifest: velero-backup.json (a velero.io/v1 Backup as Velero's backup controller leaves it
// when it is done), the resource list and the log's text. backup.ts reads the same file back,
// so our list and restore see what Velero's backup sync sees. Pure: no I/O.
import { gzipSync } from 'node:zlib';
import { FORMAT_VERSION } from '../../archive/format.js';
import { parseSelector } from '../../core/selectors.js';
import type { Selection } from '../../core/types.js';
import type { ManifestFields } from '../draft.js';
import { TOOL_VERSION_ANNOTATION } from './backup.js';

/** The namespace `velero install` uses; Velero's backup sync sets its own when it imports. */
const VELERO_NAMESPACE = 'velero';

/** A duration as Go's time.Duration prints it (`720h0m0s`, `1h30m0s`, `45s`): what Velero writes. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** Velero's timestamps have whole seconds (metav1.Time). */
function seconds(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z');
}

type Expression = { key: string; operator: string; values?: string[] };

/** A selector in kubectl's syntax as a metav1.LabelSelector; backup.ts reads it back. */
export function labelSelectorOf(text: string): {
  matchLabels?: Record<string, string>;
  matchExpressions?: Expression[];
} {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: Expression[] = [];
  for (const r of parseSelector(text)) {
    if (!('values' in r))
      matchExpressions.push({
        key: r.key,
        operator: r.op === 'exists' ? 'Exists' : 'DoesNotExist',
      });
    else if (r.op === 'in' && r.values.length === 1 && !(r.key in matchLabels))
      matchLabels[r.key] = r.values[0] as string;
    else
      matchExpressions.push({
        key: r.key,
        operator: r.op === 'in' ? 'In' : 'NotIn',
        values: r.values,
      });
  }
  return {
    ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(matchExpressions.length > 0 ? { matchExpressions } : {}),
  };
}

/** Our selection as the Backup's spec: `*` for every namespace; auto is Velero's unset. */
function specOf(sel: Selection, ttlMs: number): Record<string, unknown> {
  return {
    includedNamespaces: sel.allNamespaces ? ['*'] : sel.namespaces,
    ...(sel.excludeNamespaces.length > 0 ? { excludedNamespaces: sel.excludeNamespaces } : {}),
    ...(sel.includeResources.length > 0 ? { includedResources: sel.includeResources } : {}),
    ...(sel.excludeResources.length > 0 ? { excludedResources: sel.excludeResources } : {}),
    ...(sel.labelSelector ? { labelSelector: labelSelectorOf(sel.labelSelector) } : {}),
    ...(sel.includeClusterResources === 'auto'
      ? {}
      : { includeClusterResources: sel.includeClusterResources === 'true' }),
    ttl: goDuration(ttlMs),
    // Only objects are written: nothing for Velero to look for in snapshots or file systems.
    snapshotVolumes: false,
    defaultVolumesToFsBackup: false,
    metadata: {},
  };
}

/** Velero's annotations on where a backup came from (pkg/backup: the server's version). */
function sourceAnnotations(gitVersion: string): Record<string, string> {
  const m = /^v?(\d+)\.(\d+)/.exec(gitVersion);
  return {
    'velero.io/source-cluster-k8s-gitversion': gitVersion,
    ...(m
      ? {
          'velero.io/source-cluster-k8s-major-version': m[1] as string,
          'velero.io/source-cluster-k8s-minor-version': m[2] as string,
        }
      : {}),
  };
}

/**
 * velero-backup.json for a backup of ours: phase Completed (PartiallyFailed when types could
 * not be read; the count of what was left out is its errors), format 1.1.0, the times, the
 * expiration of `--ttl` and the selection. `fields.expiresAt` must be set: a Velero backup
 * always has a TTL.
 */
export function veleroBackupJson(fields: ManifestFields): Buffer {
  if (!fields.expiresAt) throw new Error('a Velero backup needs an expiration');
  const ttlMs = Date.parse(fields.expiresAt) - Date.parse(fields.startedAt);
  const partial = fields.phase === 'PartiallyFailed';
  const backup = {
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: {
      name: fields.name,
      namespace: VELERO_NAMESPACE,
      creationTimestamp: seconds(fields.startedAt),
      ...(Object.keys(fields.labels).length > 0 ? { labels: fields.labels } : {}),
      annotations: {
        ...sourceAnnotations(fields.cluster.version),
        [TOOL_VERSION_ANNOTATION]: fields.toolVersion,
      },
    },
    spec: specOf(fields.selection, ttlMs),
    status: {
      version: 1,
      formatVersion: FORMAT_VERSION,
      phase: partial ? 'PartiallyFailed' : 'Completed',
      expiration: seconds(fields.expiresAt),
      startTimestamp: seconds(fields.startedAt),
      completionTimestamp: seconds(fields.completedAt),
      progress: { totalItems: fields.totalObjects, itemsBackedUp: fields.totalObjects },
      ...(partial
        ? { errors: fields.warnings.length }
        : fields.warnings.length > 0
          ? { warnings: fields.warnings.length }
          : {}),
    },
  };
  return Buffer.from(`${JSON.stringify(backup, null, 2)}\n`);
}

/**
 * `<name>-resource-list.json.gz` in the making: `apiVersion/Kind` → `ns/name` (or `name`) of
 * each object, as Velero's backup records them and backup.ts checks the tarball against.
 */
export class ResourceList {
  private readonly items = new Map<string, string[]>();

  add(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    const key = `${apiVersion}/${kind}`;
    const list = this.items.get(key) ?? [];
    list.push(namespace === undefined ? name : `${namespace}/${name}`);
    this.items.set(key, list);
  }

  gzip(): Buffer {
    const out: Record<string, string[]> = {};
    for (const key of [...this.items.keys()].sort())
      out[key] = [...(this.items.get(key) ?? [])].sort();
    return gzipSync(Buffer.from(JSON.stringify(out)));
  }
}

/** The empty volume-snapshot list (`[]`), which Velero's restore reads. */
export function noVolumeSnapshots(): Buffer {
  return gzipSync(Buffer.from('[]\n'));
}

function logValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /^[\w./:-]+$/.test(s) ? s : JSON.stringify(s);
}

/**
 * The backup log in logrus's text format (`time="…" level=info msg="…" resource=…`), the way
 * `velero backup logs` shows Velero's own; `ts` becomes `time`, `warning` `warn`.
 */
export function veleroLogText(lines: readonly Record<string, unknown>[]): string {
  return lines
    .map((l) => {
      const { ts, level, msg, ...rest } = l;
      const parts = [
        `time=${JSON.stringify(String(ts ?? ''))}`,
        `level=${level === 'warning' ? 'warn' : String(level ?? 'info')}`,
        `msg=${JSON.stringify(String(msg ?? ''))}`,
        ...Object.entries(rest)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${logValue(v)}`),
      ];
      return `${parts.join(' ')}\n`;
    })
    .join('');
}
