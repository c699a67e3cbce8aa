// A Velero Schedule (velero.io/v1) translated into what `schedule create` takes, for users
// moving their schedules over. Pure: the Schedule object and the flags given on the command
// line in, the schedule's options and the fields that have no equivalent out. A flag replaces
// the Velero field it corresponds to (so a field we cannot translate, an `@every` schedule say,
// stops mattering once its flag is given); --labels adds to Velero's backup labels.
import { validateSelection } from '../backup/select.js';
import { parseDuration } from '../core/duration.js';
import { UserError } from '../core/errors.js';
import { isLabelKey, isLabelValue } from '../core/selectors.js';
import { validateTimeZone } from '../core/time-zone.js';
import type { ClusterResourcesMode, KubeObject, Selection } from '../core/types.js';
import { SCHEDULE_LABEL } from '../snapshots/scheduled.js';
import { type CronSchedule, parseCron } from './cron.js';

/** What the command line gave next to --from-velero-schedule; each replaces Velero's value. */
export interface VeleroOverrides {
  schedule?: CronSchedule;
  timeZone?: string;
  /** -n: replaces includedNamespaces. */
  namespaces?: string[];
  /** -A: replaces includedNamespaces. */
  allNamespaces?: boolean;
  excludeNamespaces?: string[];
  labelSelector?: string;
  includeResources?: string[];
  excludeResources?: string[];
  includeClusterResources?: ClusterResourcesMode;
  ttl?: { text: string; ms: number };
  /** Added to the template's labels; a key given here wins. */
  labels?: Record<string, string>;
  suspend?: boolean;
}

/** The schedule's fields that come from the Velero Schedule (the others are flags only). */
export interface VeleroScheduleOptions {
  schedule: CronSchedule;
  timeZone?: string;
  selection: Selection;
  ttl?: { text: string; ms: number };
  labels: Record<string, string>;
  suspend: boolean;
}

export interface VeleroTranslation {
  options: VeleroScheduleOptions;
  /** One line per field set on the Velero Schedule that the schedule does not carry over. */
  unmapped: string[];
}

type Obj = Record<string, unknown>;

/** Fields translated (or left out on purpose with a reason given below), by path. */
// skipImmediately: a CronJob never runs at its creation, which is what Velero's true asks for.
const MAPPED_SPEC = new Set(['schedule', 'template', 'paused', 'skipImmediately']);
const MAPPED_TEMPLATE = new Set([
  'metadata',
  'includedNamespaces',
  'excludedNamespaces',
  'includedResources',
  'excludedResources',
  'includedNamespaceScopedResources',
  'excludedNamespaceScopedResources',
  'excludedClusterScopedResources',
  'labelSelector',
  'orLabelSelectors',
  'includeClusterResources',
  'ttl',
]);

/** Why a Velero field has no equivalent; a field not named here gets a generic reason. */
const REASONS: Record<string, string> = {
  'spec.useOwnerReferencesInBackup':
    'snapshots are files in the storage location, not objects a Schedule could own',
  'spec.template.snapshotVolumes': 'kubectl-snapshot backs up no volume data',
  'spec.template.defaultVolumesToFsBackup': 'kubectl-snapshot backs up no volume data',
  'spec.template.defaultVolumesToRestic': 'kubectl-snapshot backs up no volume data',
  'spec.template.snapshotMoveData': 'kubectl-snapshot backs up no volume data',
  'spec.template.datamover': 'kubectl-snapshot backs up no volume data',
  'spec.template.uploaderConfig': 'kubectl-snapshot backs up no volume data',
  'spec.template.volumeSnapshotLocations': 'kubectl-snapshot backs up no volume data',
  'spec.template.volumeGroupSnapshotLabelKey': 'kubectl-snapshot backs up no volume data',
  'spec.template.csiSnapshotTimeout': 'kubectl-snapshot backs up no volume data',
  'spec.template.storageLocation':
    'a BackupStorageLocation is not read; give --storage (a location, or s3://… ?layout=velero to keep writing where Velero reads)',
  'spec.template.hooks': 'kubectl-snapshot runs no hooks in pods',
  'spec.template.orderedResources': 'objects are archived in list order',
  'spec.template.itemOperationTimeout': 'kubectl-snapshot runs no backup item actions',
  'spec.template.resourcePolicy': 'resource policies are not read',
  'spec.template.metadata.annotations': 'snapshots carry labels only',
};

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// `velero schedule create` writes 0s for the timeouts and the TTL it was not given.
const ZERO_DURATION = /^(0+(\.0+)?(ns|us|µs|ms|s|m|h))+$/;

/** Set to something other than its off state: not null, "", false, 0s, [] or {}. */
function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false) return false;
  if (typeof v === 'string') return !ZERO_DURATION.test(v);
  if (Array.isArray(v)) return v.length > 0;
  if (isObj(v)) return Object.keys(v).length > 0;
  return true;
}

function unmappedLine(path: string, value: unknown): string {
  const shown = JSON.stringify(value);
  const brief = shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
  return `${path} (${brief}): ${REASONS[path] ?? 'kubectl-snapshot has no such setting'}`;
}

function stringList(v: unknown, path: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
    throw new UserError(`Velero Schedule ${path} is not a list of strings`);
  return (v as string[]).map((s) => s.trim()).filter((s) => s !== '');
}

const GLOB = /[*?[\]]/;

/** Velero's namespaces: `*` (or none) is every namespace; other patterns have no equivalent. */
function namespacesFrom(t: Obj): { all: boolean; names: string[] } {
  const names = stringList(t.includedNamespaces, 'spec.template.includedNamespaces');
  if (names.length === 0 || names.includes('*')) return { all: true, names: [] };
  const pattern = names.find((n) => GLOB.test(n));
  if (pattern)
    throw new UserError(
      `Velero Schedule spec.template.includedNamespaces has the pattern "${pattern}": kubectl-snapshot selects namespaces by name`,
      'name them with -n NAMESPACE (repeatable), or -A with --exclude-namespace',
    );
  return { all: false, names };
}

function excludedNamespacesFrom(t: Obj): string[] {
  const names = stringList(t.excludedNamespaces, 'spec.template.excludedNamespaces');
  const pattern = names.find((n) => GLOB.test(n));
  if (pattern)
    throw new UserError(
      `Velero Schedule spec.template.excludedNamespaces has the pattern "${pattern}": kubectl-snapshot excludes namespaces by name`,
      'name them with --exclude-namespace NAMESPACE (repeatable)',
    );
  return names;
}

/**
 * Velero's old (included/excludedResources) or new (…NamespaceScopedResources) resource
 * filters; `*` is every type. Included cluster-scoped types have no equivalent: ours come with
 * --include-cluster-resources, not by name next to namespaced ones.
 */
function resourcesFrom(t: Obj, given: VeleroOverrides): { include: string[]; exclude: string[] } {
  const replaced =
    given.includeResources !== undefined || given.includeClusterResources !== undefined;
  if (isSet(t.includedClusterScopedResources) && !replaced)
    throw new UserError(
      'Velero Schedule spec.template.includedClusterScopedResources has no equivalent',
      'give --include-cluster-resources true|false|auto (and --include-resources) instead',
    );
  const include = [
    ...stringList(t.includedResources, 'spec.template.includedResources'),
    ...stringList(
      t.includedNamespaceScopedResources,
      'spec.template.includedNamespaceScopedResources',
    ),
  ];
  const exclude = [
    ...stringList(t.excludedResources, 'spec.template.excludedResources'),
    ...stringList(
      t.excludedNamespaceScopedResources,
      'spec.template.excludedNamespaceScopedResources',
    ),
    ...stringList(t.excludedClusterScopedResources, 'spec.template.excludedClusterScopedResources'),
  ];
  if (exclude.includes('*'))
    throw new UserError(
      'Velero Schedule excludes every resource type ("*")',
      'give --exclude-resources with the types to leave out',
    );
  return { include: include.includes('*') ? [] : include, exclude };
}

/** A metav1.LabelSelector in kubectl's syntax. */
export function selectorText(sel: unknown): string | undefined {
  if (!isObj(sel)) return undefined;
  const parts: string[] = [];
  const labels = isObj(sel.matchLabels) ? sel.matchLabels : {};
  for (const [k, v] of Object.entries(labels)) parts.push(`${k}=${String(v)}`);
  const exprs = Array.isArray(sel.matchExpressions) ? (sel.matchExpressions as Obj[]) : [];
  for (const e of exprs) {
    const key = String(e.key);
    const values = stringList(e.values, 'spec.template.labelSelector.matchExpressions.values');
    if (e.operator === 'In') parts.push(`${key} in (${values.join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${key} notin (${values.join(',')})`);
    else if (e.operator === 'Exists') parts.push(key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${key}`);
    else
      throw new UserError(
        `Velero Schedule labelSelector has the unknown operator "${String(e.operator)}"`,
      );
  }
  return parts.length > 0 ? parts.join(',') : undefined;
}

function clusterModeFrom(v: unknown): ClusterResourcesMode {
  if (v === true) return 'true';
  if (v === false) return 'false';
  return 'auto';
}

/** An `@every` the clock can keep as a cron expression, for the hint. */
function everyAsCron(text: string): string | undefined {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    return undefined;
  }
  const min = ms / 60_000;
  if (Number.isInteger(min) && min < 60 && 60 % min === 0) return `*/${min} * * * *`;
  const h = ms / 3_600_000;
  if (h === 24) return '@daily';
  if (Number.isInteger(h) && h < 24 && 24 % h === 0) return h === 1 ? '@hourly' : `0 */${h} * * *`;
  return undefined;
}

/** Velero's schedule string: an optional CRON_TZ=/TZ= prefix, then a cron expression. */
function cronFrom(text: string, skipCron: boolean): { schedule?: CronSchedule; timeZone?: string } {
  const m = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(text.trim());
  const timeZone = m ? validateTimeZone(m[1] as string) : undefined;
  const expr = (m ? (m[2] as string) : text).trim();
  const zone = timeZone !== undefined ? { timeZone } : {};
  if (skipCron) return zone;
  if (expr === '')
    throw new UserError(
      'Velero Schedule has no spec.schedule',
      'give --schedule "MINUTE HOUR DOM MONTH DOW"',
    );
  const every = /^@every\s+(\S+)$/.exec(expr);
  if (every) {
    const cron = everyAsCron(every[1] as string);
    throw new UserError(
      `Velero Schedule spec.schedule "${text.trim()}": a CronJob cannot run @every (an interval from the last run, not a time of day)`,
      cron
        ? `give --schedule "${cron}" (the same interval, on the clock)`
        : 'give --schedule with a cron expression, e.g. "0 2 * * *"',
    );
  }
  return { schedule: parseCron(expr), ...zone };
}

function ttlFrom(v: unknown): { text: string; ms: number } | undefined {
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const text = v.trim();
  // Velero's zero TTL means its server's default (--default-backup-ttl).
  if (ZERO_DURATION.test(text)) return undefined;
  return { text, ms: parseDuration(text) };
}

function labelsFrom(meta: Obj): Record<string, string> {
  const labels = isObj(meta.labels) ? meta.labels : {};
  const out: Record<string, string> = {};
  for (const [k, raw] of Object.entries(labels)) {
    const v = String(raw);
    if (!isLabelKey(k) || !isLabelValue(v))
      throw new UserError(`Velero Schedule template label "${k}=${v}" is not a valid label`);
    out[k] = v;
  }
  return out;
}

/**
 * The schedule a Velero Schedule describes, with the command line's flags in `given` taking
 * the place of the fields they correspond to; `unmapped` names each set field left out.
 */
export function scheduleFromVelero(
  velero: KubeObject,
  given: VeleroOverrides = {},
): VeleroTranslation {
  const ref = `${velero.metadata?.namespace ?? ''}/${velero.metadata?.name ?? ''}`;
  if (velero.apiVersion !== 'velero.io/v1' || velero.kind !== 'Schedule')
    throw new UserError(`${ref} is not a velero.io/v1 Schedule`);
  const spec = isObj(velero.spec) ? velero.spec : {};
  const t = isObj(spec.template) ? spec.template : {};
  const meta = isObj(t.metadata) ? t.metadata : {};
  const unmapped: string[] = [];

  for (const [k, v] of Object.entries(spec))
    if (!MAPPED_SPEC.has(k) && isSet(v)) unmapped.push(unmappedLine(`spec.${k}`, v));
  for (const [k, v] of Object.entries(t))
    if (!MAPPED_TEMPLATE.has(k) && isSet(v)) unmapped.push(unmappedLine(`spec.template.${k}`, v));
  for (const [k, v] of Object.entries(meta))
    if (k !== 'labels' && isSet(v)) unmapped.push(unmappedLine(`spec.template.metadata.${k}`, v));

  const cron = cronFrom(
    typeof spec.schedule === 'string' ? spec.schedule : '',
    given.schedule !== undefined,
  );
  const schedule = given.schedule ?? (cron.schedule as CronSchedule);
  const timeZone = given.timeZone ?? cron.timeZone;

  let labelSelector = given.labelSelector;
  if (labelSelector === undefined) {
    if (isSet(t.orLabelSelectors))
      throw new UserError(
        'Velero Schedule spec.template.orLabelSelectors has no equivalent: a schedule takes one label selector',
        'give -l SELECTOR for one of them (one schedule per selector), or leave the selection to -n',
      );
    labelSelector = selectorText(t.labelSelector);
  }

  const byName = given.namespaces !== undefined || given.allNamespaces === true;
  const ns = byName
    ? { all: given.allNamespaces === true, names: given.namespaces ?? [] }
    : namespacesFrom(t);
  const excluded = given.excludeNamespaces ?? excludedNamespacesFrom(t);
  const resources =
    given.includeResources !== undefined && given.excludeResources !== undefined
      ? { include: [], exclude: [] }
      : resourcesFrom(t, given);
  // Velero subtracts excluded namespaces from included ones; ours exclude from -A only.
  const selection: Selection = {
    namespaces: ns.all ? ns.names : ns.names.filter((n) => !excluded.includes(n)),
    allNamespaces: ns.all,
    excludeNamespaces: ns.all ? excluded : [],
    ...(labelSelector !== undefined ? { labelSelector } : {}),
    includeResources: given.includeResources ?? resources.include,
    excludeResources: given.excludeResources ?? resources.exclude,
    includeClusterResources:
      given.includeClusterResources ?? clusterModeFrom(t.includeClusterResources),
  };
  if (!selection.allNamespaces && selection.namespaces.length === 0)
    throw new UserError(
      `Velero Schedule ${ref} excludes every namespace it includes`,
      'give -n NAMESPACE',
    );
  validateSelection(selection);

  const ttl = given.ttl ?? ttlFrom(t.ttl);
  if (ttl === undefined)
    unmapped.push(
      "spec.template.ttl (unset): Velero's server gives each backup its --default-backup-ttl (720h unless changed); these snapshots do not expire: give --ttl 720h for the same",
    );
  const labels = { ...labelsFrom(meta), ...given.labels };
  if (Object.hasOwn(labels, SCHEDULE_LABEL))
    throw new UserError(
      `Velero Schedule template labels may not set ${SCHEDULE_LABEL}: the schedule sets it`,
    );

  return {
    options: {
      schedule,
      ...(timeZone !== undefined ? { timeZone } : {}),
      selection,
      ...(ttl ? { ttl } : {}),
      labels,
      suspend: given.suspend ?? spec.paused === true,
    },
    unmapped,
  };
}

/** The Velero Schedule NS/NAME (a bare NAME is in Velero's usual namespace, velero). */
export function parseVeleroRef(text: string): { namespace: string; name: string } {
  const parts = text.trim().split('/');
  const [namespace, name] = parts.length === 1 ? ['velero', parts[0]] : parts;
  if (parts.length > 2 || !namespace || !name)
    throw new UserError(
      `invalid --from-velero-schedule "${text}"`,
      'give NAMESPACE/NAME of the Velero Schedule, e.g. velero/nightly',
    );
  return { namespace, name };
}

export const veleroSchedulePath = (ref: { namespace: string; name: string }) =>
  `/apis/velero.io/v1/namespaces/${encodeURIComponent(ref.namespace)}/schedules/${encodeURIComponent(ref.name)}`;
