// snapshot.json as read back from storage: whoever can write the bucket wrote it, so every
// field a command reads is checked before anything trusts it. A manifest that fails is
// "damaged": `list` and `prune` name it and go on, the commands that need it refuse it.
import { UserError } from '../core/errors.js';
import { SNAPSHOT_FORMAT_VERSION, type SnapshotManifest } from '../core/types.js';

/** What `list` and `describe` call a snapshot's state. */
export function snapshotStatus(
  m: Pick<SnapshotManifest, 'phase' | 'warnings'> & { velero?: { phase: string } },
): string {
  // A Velero backup keeps Velero's own word for its state (Failed, InProgress, …).
  if (m.velero) return m.velero.phase;
  if (m.phase === 'PartiallyFailed') return 'PartiallyFailed';
  return m.warnings.length > 0 ? 'CompletedWithWarnings' : 'Completed';
}

export class DamagedManifestError extends UserError {
  constructor(
    readonly snapshot: string,
    readonly problem: string,
    hint = `delete the snapshot (kubectl snapshot delete ${snapshot}) or restore it from a copy`,
  ) {
    super(`snapshot.json of "${snapshot}" is damaged: ${problem}`, hint);
    this.name = 'DamagedManifestError';
  }
}

type Check = (v: unknown) => boolean;
const isString: Check = (v) => typeof v === 'string';
const isCount: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const isBool: Check = (v) => typeof v === 'boolean';
const isTime: Check = (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
const arrayOf =
  (c: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(c);
const recordOf =
  (c: Check): Check =>
  (v) =>
    isObject(v) && Object.values(v).every(c);
const shape =
  (fields: Record<string, Check>, optional: Record<string, Check> = {}): Check =>
  (v) =>
    isObject(v) &&
    Object.entries(fields).every(([k, c]) => c(v[k])) &&
    Object.entries(optional).every(([k, c]) => v[k] === undefined || c(v[k]));

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The fields every command reads, with what each must hold. */
const FIELDS: Record<string, Check> = {
  name: isString,
  toolVersion: isString,
  cluster: shape({ server: isString, version: isString }),
  selection: shape(
    {
      namespaces: arrayOf(isString),
      allNamespaces: isBool,
      excludeNamespaces: arrayOf(isString),
      includeResources: arrayOf(isString),
      excludeResources: arrayOf(isString),
      includeClusterResources: (v) => v === 'auto' || v === 'true' || v === 'false',
    },
    { labelSelector: isString },
  ),
  namespaces: arrayOf(isString),
  startedAt: isTime,
  completedAt: isTime,
  labels: recordOf(isString),
  resources: arrayOf(
    shape(
      {
        resource: isString,
        apiVersion: isString,
        kind: isString,
        namespaced: isBool,
        count: isCount,
      },
      { singular: isString, shortNames: arrayOf(isString) },
    ),
  ),
  totalObjects: isCount,
  warnings: arrayOf(shape({ message: isString }, { resource: isString, namespace: isString })),
  archive: shape(
    {
      key: isString,
      size: isCount,
      sha256: (v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v),
      encrypted: isBool,
    },
    { inflatedSize: isCount },
  ),
  log: shape({ key: isString }),
};

const OPTIONAL: Record<string, Check> = {
  expiresAt: isTime,
  phase: (v) => v === 'Completed' || v === 'PartiallyFailed',
  encryption: shape({ recipients: arrayOf(isString), passphrase: isBool }),
};

export function parseManifest(raw: Buffer, name: string): SnapshotManifest {
  let m: unknown;
  try {
    m = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new DamagedManifestError(name, `not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(m)) throw new DamagedManifestError(name, 'not a JSON object');
  if (typeof m.formatVersion === 'number' && m.formatVersion > SNAPSHOT_FORMAT_VERSION) {
    throw new DamagedManifestError(
      name,
      `formatVersion ${m.formatVersion} was made by a newer kubectl-snapshot; upgrade (this version reads ${SNAPSHOT_FORMAT_VERSION})`,
      'install a newer kubectl-snapshot to read it; the snapshot itself may be fine, keep it',
    );
  }
  if (m.formatVersion !== SNAPSHOT_FORMAT_VERSION) {
    throw new DamagedManifestError(
      name,
      `formatVersion ${JSON.stringify(m.formatVersion)} is not ${SNAPSHOT_FORMAT_VERSION}, the one this version reads`,
    );
  }
  if (m.name !== name) {
    throw new DamagedManifestError(name, `it names snapshot ${JSON.stringify(m.name)}`);
  }
  for (const [field, check] of Object.entries(FIELDS)) {
    if (!check(m[field]))
      throw new DamagedManifestError(name, `field ${field} is missing or wrong`);
  }
  for (const [field, check] of Object.entries(OPTIONAL)) {
    if (m[field] !== undefined && !check(m[field]))
      throw new DamagedManifestError(name, `field ${field} is wrong`);
  }
  return m as unknown as SnapshotManifest;
}
