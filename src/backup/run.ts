// The backup pipeline: discover → list (paginated, parallel) → tar+gzip → upload, with
// snapshot.json written last so a half-written snapshot never shows up in `list`.

import { objectEntryPath } from '../archive/format.js';
import { ArchiveWriter } from '../archive/writer.js';
import { controlPlaneOwned } from '../core/control-plane.js';
import { Interrupted, UserError } from '../core/errors.js';
import { defaultSnapshotName, validateSnapshotName } from '../core/names.js';
import { mapLimit } from '../core/pool.js';
import type { NamedType } from '../core/resources.js';
import {
  apiVersionOf,
  type KubeObject,
  NAMESPACE_TYPE,
  qualifiedResource,
  type ResourceCount,
  type Selection,
  SNAPSHOT_FORMAT_VERSION,
  type SnapshotManifest,
  type SnapshotWarning,
} from '../core/types.js';
import type { EncryptionKey } from '../crypto/age.js';
import { rulesReview } from '../kube/access-review.js';
import { ApiError, type KubeClient } from '../kube/client.js';
import { collectionPath, type DiscoveredType, discover, objectPath } from '../kube/discovery.js';
import { economizeHeap } from '../node-flags.js';
import type { SnapshotRepository } from '../snapshots/repository.js';
import {
  CLUSTER_RBAC,
  forbiddenAccess,
  knownUnlistable,
  listAccess,
  type NamespaceRights,
} from './access.js';
import { addRelated, type LogLine } from './related.js';
import {
  type ListJob,
  listableTypes,
  planListJobs,
  RelatedCollector,
  relatedTypes,
} from './select.js';

/**
 * Lists in flight and objects per page. Memory peaks at about concurrency × page × object
 * size (a page is read whole before it is parsed): 6 × 100 × 50 KB objects stays near 30 MB
 * of JSON. Measured on 5,500 objects of 0.5–50 KB: 100 per page is as fast as 500 and keeps
 * the V8 heap at 90 MB instead of 160 MB.
 */
export const LIST_CONCURRENCY = 6;
export const LIST_PAGE_SIZE = 100;

export interface BackupOptions {
  /** Encrypt the archive and the log (age format). */
  encryption?: EncryptionKey;
  name?: string;
  selection: Selection;
  ttlMs?: number;
  labels?: Record<string, string>;
  /** Resource lists in flight at once. */
  concurrency?: number;
  onProgress?: (p: BackupProgress) => void;
  now?: () => Date;
  /** Aborting it stops the backup: the upload is aborted and what was written removed. */
  signal?: AbortSignal;
  /** A schedule's run: an --exclude-resources name the cluster does not serve is a warning. */
  warnUnknownExcludes?: boolean;
}

export interface BackupProgress {
  listsDone: number;
  listsTotal: number;
  objects: number;
  bytes: number;
}

export interface BackupDeps {
  client: KubeClient;
  snapshots: SnapshotRepository;
  toolVersion: string;
}

export async function runBackup(deps: BackupDeps, opts: BackupOptions): Promise<SnapshotManifest> {
  const { client, snapshots } = deps;
  const sel = opts.selection;
  const now = opts.now ?? (() => new Date());
  const started = now();
  const name = opts.name ?? defaultSnapshotName(sel.namespaces, sel.allNamespaces, started);
  validateSnapshotName(name);
  // Its size is unknown until everything is listed: see economizeHeap.
  economizeHeap();

  // Reach the API server before touching storage: with an unreachable or misconfigured
  // cluster the backup fails without writing anything (not even the lock or its directory).
  const serverVersion = await client.serverVersion();

  // Claim the name before any work: two backups with one name cannot both proceed.
  const draft = await snapshots.claim(name, started, opts.encryption);

  const log: LogLine[] = [];
  const warnings: SnapshotWarning[] = [];
  const note = (l: Omit<LogLine, 'ts'>) => log.push({ ts: now().toISOString(), ...l });
  const warn = (w: SnapshotWarning) => {
    warnings.push(w);
    note({ level: 'warning', msg: w.message, resource: w.resource, namespace: w.namespace });
  };

  const writer = new ArchiveWriter(started, draft.entryMode);
  try {
    const upload = await draft.startArchive(writer.output);
    // Every wait races the upload's failure and the stop signal: a list waiting on a slow API
    // server must not delay a Ctrl-C, nor a broken upload the error.
    const stopped = new Promise<never>((_, reject) => {
      const stop = () => reject(opts.signal?.reason);
      if (opts.signal?.aborted) stop();
      opts.signal?.addEventListener('abort', stop, { once: true });
    });
    stopped.catch(() => {});
    const orUploadFailure = <T>(p: Promise<T>): Promise<T> =>
      Promise.race([p, upload.failed, stopped]);
    const discovery = await orUploadFailure(discover(client));
    // What could not be read makes the snapshot partial; what no longer exists does not.
    let unread = discovery.failures.length;
    for (const f of discovery.failures)
      warn({ message: `discovery of ${f.groupVersion} failed: ${f.message}` });
    const types = listableTypes(
      discovery.types,
      sel,
      opts.warnUnknownExcludes
        ? (p) =>
            warn({
              message: `--exclude-resources: the server has no resource type "${p}" (its CRD was uninstalled?); nothing to leave out`,
            })
        : undefined,
    );
    const { namespaces, namespaceObjects } = await resolveNamespaces(client, sel, warn);

    const counts = new Map<string, ResourceCount>();
    const related = new RelatedCollector();
    // Cluster-scoped objects can come twice (listed, then again as related objects); a
    // namespaced object cannot, so only cluster-scoped paths are remembered: memory does not
    // grow with the number of namespaced objects.
    const writtenCluster = new Set<string>();
    let bytes = 0;
    let objects = 0;
    const add = async (type: NamedType, obj: KubeObject) => {
      // List items come without apiVersion/kind; the archive stores whole objects.
      const { apiVersion: _served, kind: _kind, ...rest } = obj;
      const full = { apiVersion: apiVersionOf(type), kind: type.kind, ...rest } as KubeObject;
      const loc = {
        resource: qualifiedResource(type),
        namespace: type.namespaced ? full.metadata.namespace : undefined,
        name: full.metadata.name,
      };
      const path = objectEntryPath(loc);
      if (!type.namespaced) {
        if (writtenCluster.has(path)) return;
        writtenCluster.add(path);
      }
      const data = Buffer.from(JSON.stringify(full));
      // The layout says where it goes: once for ours, twice for Velero's (velero/entries.ts).
      for (const p of draft.entryPaths({ loc, apiVersion: full.apiVersion, kind: full.kind }))
        await orUploadFailure(writer.add(p, data));
      bytes += data.length;
      objects++;
      const key = qualifiedResource(type);
      const c = counts.get(key) ?? {
        resource: key,
        apiVersion: apiVersionOf(type),
        kind: type.kind,
        namespaced: type.namespaced,
        count: 0,
        // Restore filters then know the names backup's filters knew (kafkas as `k`).
        ...(type.singular ? { singular: type.singular } : {}),
        ...(type.shortNames?.length ? { shortNames: type.shortNames } : {}),
      };
      c.count++;
      counts.set(key, c);
      related.observe(type, full);
    };

    // What the user may list in each named namespace, asked once per namespace up front:
    // types they may not list are not requested (see access.ts for what that means).
    const rights = sel.allNamespaces ? new Map() : await reviewRights(client, namespaces);
    const planned = planListJobs(types, sel, namespaces);
    const jobs: typeof planned = [];
    for (const job of planned) {
      const access = listAccess(job.type, job.namespace ? rights.get(job.namespace) : undefined);
      const where = { resource: qualifiedResource(job.type), namespace: job.namespace };
      if (access.kind === 'list') jobs.push(job);
      else if (access.kind === 'leave-out')
        note({ level: 'info', msg: `left out ${describeJob(job)}: ${access.reason}`, ...where });
      else {
        unread++;
        warn({ ...where, message: `skipped ${describeJob(job)}: forbidden` });
      }
    }
    let namespacedRead = 0;
    let listsDone = 0;
    const progress = () =>
      opts.onProgress?.({ listsDone, listsTotal: jobs.length, objects, bytes });
    const excluded = new Set(sel.excludeNamespaces);
    await orUploadFailure(
      mapLimit(jobs, opts.concurrency ?? LIST_CONCURRENCY, async (job: ListJob<DiscoveredType>) => {
        const where = { resource: qualifiedResource(job.type), namespace: job.namespace };
        let n = 0;
        // Cluster objects the control plane made for itself (core/control-plane.ts), by reason.
        const leftOwned = new Map<string, string[]>();
        try {
          const query =
            job.type.namespaced && sel.labelSelector ? { labelSelector: sel.labelSelector } : {};
          for await (const page of client.listPages(
            collectionPath(job.type, job.namespace),
            query,
            LIST_PAGE_SIZE,
          )) {
            for (const obj of page) {
              if (
                job.type.namespaced &&
                job.namespace === undefined &&
                excluded.has(obj.metadata.namespace ?? '')
              )
                continue;
              const owned = job.type.namespaced
                ? undefined
                : controlPlaneOwned(where.resource, obj);
              if (owned) {
                const names = leftOwned.get(owned) ?? [];
                leftOwned.set(owned, [...names, obj.metadata.name]);
                continue;
              }
              await add(job.type, obj);
              n++;
            }
            progress();
          }
          note({ level: 'info', msg: 'listed', ...where, count: n });
          for (const [reason, names] of leftOwned)
            note({
              level: 'info',
              msg: `left out ${names.length} owned by the control plane (${reason}): ${names.join(', ')}`,
              ...where,
            });
          if (job.type.namespaced) namespacedRead++;
        } catch (err) {
          if (
            err instanceof ApiError &&
            (err.statusCode === 403 || err.statusCode === 404 || err.statusCode === 405)
          ) {
            const access =
              err.statusCode === 403
                ? forbiddenAccess(job.type, job.namespace ? rights.get(job.namespace) : undefined)
                : undefined;
            if (access?.kind === 'leave-out') {
              note({
                level: 'info',
                msg: `left out ${describeJob(job)}: ${access.reason}`,
                ...where,
              });
              listsDone++;
              progress();
              return;
            }
            if (err.statusCode === 403) unread++;
            warn({
              ...where,
              message: `skipped ${describeJob(job)}: ${err.statusCode === 403 ? 'forbidden' : err.message}`,
            });
          } else throw err;
        }
        listsDone++;
        progress();
      }),
    );

    if (namespacedRead === 0 && planned.some((j) => j.type.namespaced)) {
      throw new UserError(
        `nothing could be read from ${sel.allNamespaces ? 'any namespace' : `namespace(s) ${namespaces.join(', ')}`}: every list was forbidden, so no snapshot was written`,
        `check your rights, e.g. kubectl auth can-i list configmaps -n ${namespaces[0] ?? 'NAMESPACE'}`,
      );
    }

    // Cluster RBAC that the reviews show this user may not list (a namespace-scoped user):
    // its lack is expected and not theirs to fix, so it is logged, not warned about.
    const reviews = [...rights.values()].filter((r): r is NamespaceRights => r !== undefined);
    const relatedWarn = (w: SnapshotWarning) => {
      const type =
        types.find((t) => qualifiedResource(t) === w.resource) ??
        discovery.types.find((t) => qualifiedResource(t) === w.resource);
      if (w.resource && CLUSTER_RBAC.includes(w.resource) && type && knownUnlistable(type, reviews))
        note({ level: 'info', msg: `not looked up: ${w.message}`, resource: w.resource });
      else warn(w);
    };
    if (sel.includeClusterResources === 'auto') {
      await orUploadFailure(
        addRelated(
          client,
          relatedTypes(discovery.types, sel),
          related,
          namespaceObjects,
          add,
          relatedWarn,
          note,
        ),
      );
    }

    const tar = await orUploadFailure(writer.finish());
    await draft.writeLog(log);
    const manifest = await draft.commit(
      {
        formatVersion: SNAPSHOT_FORMAT_VERSION,
        name,
        toolVersion: deps.toolVersion,
        cluster: { server: client.server, version: serverVersion },
        selection: sel,
        namespaces,
        startedAt: started.toISOString(),
        completedAt: now().toISOString(),
        ...(opts.ttlMs
          ? { expiresAt: new Date(started.getTime() + opts.ttlMs).toISOString() }
          : {}),
        labels: opts.labels ?? {},
        resources: [...counts.values()].sort((a, b) => a.resource.localeCompare(b.resource)),
        totalObjects: objects,
        phase: unread > 0 ? 'PartiallyFailed' : 'Completed',
        warnings,
      },
      { inflatedSize: tar.inflatedBytes },
    );
    return manifest;
  } catch (err) {
    writer.abort(err instanceof Error ? err : new Error(String(err)));
    const cleanedUp = await draft.abort();
    // When the failure is the storage itself going away, the cleanup cannot reach it either
    // and the name claim stays: say so, or the user's rerun fails with "already exists" and
    // no hint of why.
    if (!cleanedUp && err instanceof UserError) {
      const leftover = `the failed backup could not remove what it wrote: once the storage is reachable again, run kubectl snapshot delete ${name}`;
      const hint = err.hint ? `${err.hint}; ${leftover}` : leftover;
      throw err instanceof Interrupted
        ? new Interrupted(err.signal, hint)
        : new UserError(err.message, hint);
    }
    throw err;
  }
}

function describeJob(job: ListJob): string {
  const r = qualifiedResource(job.type);
  return job.namespace
    ? `${r} in namespace ${job.namespace}`
    : job.type.namespaced
      ? `${r} in all namespaces`
      : r;
}

async function resolveNamespaces(
  client: KubeClient,
  sel: Selection,
  warn: (w: SnapshotWarning) => void,
): Promise<{ namespaces: string[]; namespaceObjects: KubeObject[] }> {
  if (sel.allNamespaces) {
    const objs: KubeObject[] = [];
    try {
      for await (const page of client.listPages(collectionPath(NAMESPACE_TYPE))) objs.push(...page);
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 403)
        throw new UserError(
          'you may not list namespaces, so -A cannot find them',
          'name the namespaces to back up with -n NAMESPACE (repeatable)',
        );
      throw err;
    }
    const keep = objs.filter((o) => !sel.excludeNamespaces.includes(o.metadata.name));
    return { namespaces: keep.map((o) => o.metadata.name).sort(), namespaceObjects: keep };
  }
  const namespaces = [...new Set(sel.namespaces)].filter((n) => !sel.excludeNamespaces.includes(n));
  const namespaceObjects: KubeObject[] = [];
  for (const ns of namespaces) {
    try {
      const obj = await client.getOptional(objectPath(NAMESPACE_TYPE, ns));
      if (!obj)
        throw new UserError(
          `namespace "${ns}" not found`,
          'check the name with: kubectl get namespaces',
        );
      namespaceObjects.push(obj);
    } catch (err) {
      // A user with only namespace-scoped rights cannot read the Namespace object; the
      // namespace's contents can still be backed up.
      if (err instanceof ApiError && err.statusCode === 403) {
        warn({
          resource: 'namespaces',
          namespace: ns,
          message: `cannot read Namespace ${ns} (forbidden); it is not in the snapshot`,
        });
      } else throw err;
    }
  }
  return { namespaces, namespaceObjects };
}

/**
 * One SelfSubjectRulesReview per namespace: the rules the user holds there. Undefined for a
 * namespace whose review failed; the lists then decide.
 */
async function reviewRights(
  client: KubeClient,
  namespaces: string[],
): Promise<Map<string, NamespaceRights | undefined>> {
  const out = new Map<string, NamespaceRights | undefined>();
  await mapLimit(namespaces, LIST_CONCURRENCY, async (namespace) => {
    out.set(namespace, await rulesReview(client, namespace));
  });
  return out;
}
