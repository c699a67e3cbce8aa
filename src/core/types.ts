// Shared domain types. Nothing here imports from elsewhere in src/.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  selfLink?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** One API resource type at the version we read or write it. */
export interface ResourceType {
  /** API group; '' for the core group. */
  group: string;
  version: string;
  /** Plural resource name, e.g. 'deployments'. */
  resource: string;
  kind: string;
  namespaced: boolean;
}

export const NAMESPACE_TYPE: Readonly<ResourceType> = {
  group: '',
  version: 'v1',
  resource: 'namespaces',
  kind: 'Namespace',
  namespaced: false,
};

/** `deployments.apps`, or `configmaps` for the core group: the name users type and archives use. */
export function qualifiedResource(t: Pick<ResourceType, 'group' | 'resource'>): string {
  return t.group ? `${t.resource}.${t.group}` : t.resource;
}

export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** Splits `apps/v1` into group and version; `v1` is the core group. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export type ClusterResourcesMode = 'auto' | 'true' | 'false';

/** What a backup selected; recorded in snapshot.json and re-used by schedules. */
export interface Selection {
  /** Namespaces listed with -n; empty with allNamespaces. */
  namespaces: string[];
  allNamespaces: boolean;
  excludeNamespaces: string[];
  labelSelector?: string;
  includeResources: string[];
  excludeResources: string[];
  includeClusterResources: ClusterResourcesMode;
}

export interface ResourceCount {
  /** Qualified resource name, e.g. `deployments.apps`. */
  resource: string;
  apiVersion: string;
  kind: string;
  namespaced: boolean;
  count: number;
  /** kubectl's other names of the type, as the backup's discovery had them (restore filters). */
  singular?: string;
  shortNames?: string[];
}

export interface SnapshotWarning {
  resource?: string;
  namespace?: string;
  message: string;
}

export const SNAPSHOT_FORMAT_VERSION = 1;

/**
 * Completed: every selected type was read. PartiallyFailed: some could not be (forbidden,
 * discovery failed); the snapshot is kept, named in `list`, and not counted by retention.
 * Snapshots written before phases existed have none and count as Completed.
 */
export type SnapshotPhase = 'Completed' | 'PartiallyFailed';

/** What a Velero backup's velero-backup.json says beyond what our manifest has. */
export interface VeleroSource {
  /** status.phase: New, InProgress, Completed, PartiallyFailed, Failed, FailedValidation, … */
  phase: string;
  /** status.formatVersion of the tarball, e.g. 1.1.0. */
  formatVersion: string;
  errors: number;
  warnings: number;
  /** Objects of types Velero never restores (events, nodes, …), left out of `resources`. */
  notRestored: number;
  /** The tarball has `-preferredversion` entries (format 1.1): those are read, not the others. */
  preferredVersions: boolean;
}

/** snapshot.json: written last; a snapshot without it does not exist. */
export interface SnapshotManifest {
  formatVersion: number;
  name: string;
  toolVersion: string;
  cluster: { server: string; version: string };
  selection: Selection;
  /** Namespaces actually backed up. */
  namespaces: string[];
  startedAt: string;
  completedAt: string;
  expiresAt?: string;
  labels: Record<string, string>;
  resources: ResourceCount[];
  totalObjects: number;
  phase?: SnapshotPhase;
  warnings: SnapshotWarning[];
  /** size and sha256 are of the stored bytes (the ciphertext when encrypted). */
  archive: {
    key: string;
    size: number;
    sha256: string;
    encrypted: boolean;
    /** Size of the tar before compression; a restore reads no more than about this. */
    inflatedSize?: number;
  };
  /** Set for a backup read from a Velero backup storage location (snapshots/velero/). */
  velero?: VeleroSource;
  /** Set when the archive and the log are encrypted (age format); never holds a secret. */
  encryption?: { recipients: string[]; passphrase: boolean };
  log: { key: string };
}

/** The type of a qualified resource (`deployments.apps`) served as apiVersion and kind. */
export function resourceType(
  qualified: string,
  apiVersion: string,
  kind: string,
  namespaced: boolean,
): ResourceType {
  const dot = qualified.indexOf('.');
  const resource = dot < 0 ? qualified : qualified.slice(0, dot);
  const group = dot < 0 ? '' : qualified.slice(dot + 1);
  const { version } = parseApiVersion(apiVersion);
  return { group, version, resource, kind, namespaced };
}
