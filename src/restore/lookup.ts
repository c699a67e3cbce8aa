// Which objects of a restore already exist: one LIST per type and target namespace (cheaper
// than a failed create per object), digested off the main thread. Only a digest of each
// existing object's compared form is kept, so memory does not grow with the objects' sizes.
import { LIST_CONCURRENCY, LIST_PAGE_SIZE } from '../backup/run.js';
import { apiVersionOf, qualifiedResource, type ResourceType } from '../core/types.js';
import { ApiError, type KubeClient } from '../kube/client.js';
import { collectionPath } from '../kube/discovery.js';
import { digestListPage } from './digest.js';
import { PageDigester } from './digest-pool.js';
import type { Deleting } from './terminating.js';

/** Lookup lists in flight, as many as a backup's lists. */
const LOOKUP_LISTS = LIST_CONCURRENCY;

function collectionKey(type: ResourceType, namespace: string | undefined): string {
  return `${qualifiedResource(type)}/${namespace ?? ''}`;
}

/** What `lookup` needs to know about an object. */
export interface Wanted {
  type: ResourceType;
  namespace?: string;
  name: string;
}

/** One listed collection: each object's digest, and which of them are being deleted. */
interface Listed {
  digests: Map<string, string>;
  deleting: Map<string, Deleting>;
}

export class Lookups {
  private readonly cache = new Map<string, Promise<Listed | null>>();
  /**
   * Namespaces this restore created: nothing of ours can exist in them yet, so their objects
   * are created without listing first. What controllers add to a new namespace (the default
   * ServiceAccount, kube-root-ca.crt) answers the create with AlreadyExists and is compared.
   */
  private readonly created = new Set<string>();
  /** Lists running at once: each holds a page until it is digested. */
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly digester = new PageDigester();

  constructor(private readonly client: KubeClient) {}

  /** Marks a namespace this restore has just created: it is known to hold none of ours. */
  createdNamespace(ns: string): void {
    this.created.add(ns);
  }

  /** Starts the list of a collection `lookup` will need, without waiting for it. */
  prefetch(type: ResourceType, namespace: string | undefined): void {
    this.collection(type, namespace);
  }

  /** The existing object's digest, null if absent, or undefined when the list was not allowed. */
  async lookup(o: Wanted): Promise<string | null | undefined> {
    const entry = this.collection(o.type, o.namespace);
    if (!entry) return null;
    const listed = await entry;
    return listed === null ? undefined : (listed.digests.get(o.name) ?? null);
  }

  /** What holds the existing object if the list found it being deleted; else undefined. */
  async deleting(o: Wanted): Promise<Deleting | undefined> {
    const listed = await this.collection(o.type, o.namespace);
    return listed?.deleting.get(o.name);
  }

  /** Stops the worker; lists still running fail. */
  close(): Promise<void> {
    return this.digester.close();
  }

  /** The (one, shared) list of a collection; undefined when it is known to be empty. */
  private collection(
    type: ResourceType,
    namespace: string | undefined,
  ): Promise<Listed | null> | undefined {
    if (namespace !== undefined && this.created.has(namespace)) return undefined;
    const key = collectionKey(type, namespace);
    let entry = this.cache.get(key);
    if (!entry) {
      entry = this.list(type, namespace);
      // Handled once here, not per object: a failed list is reported by each create awaiting it.
      entry.catch(() => {});
      this.cache.set(key, entry);
    }
    return entry;
  }

  private async list(type: ResourceType, namespace: string | undefined): Promise<Listed | null> {
    const apiVersion = apiVersionOf(type);
    if (this.running >= LOOKUP_LISTS) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      const found = new Map<string, string>();
      const deleting = new Map<string, Deleting>();
      const pages = this.client.listPagesDecoded(
        collectionPath(type, namespace),
        LIST_PAGE_SIZE,
        async (body) => {
          // Cluster-scoped lists (namespaces, CRDs) are few and small: digested here, they do
          // not start the worker (10 MiB) for a restore into new namespaces.
          const { continue: cont, ...page } = type.namespaced
            ? await this.digester.digest(body, apiVersion, type.kind)
            : digestListPage(body, apiVersion, type.kind);
          return { page, ...(cont ? { continue: cont } : {}) };
        },
      );
      for await (const page of pages) {
        for (const [name, digest] of page.digests) found.set(name, digest);
        for (const [name, holders] of page.deleting ?? []) deleting.set(name, holders);
      }
      return { digests: found, deleting };
    } catch (err) {
      // Forbidden to list, or the namespace/type is not there yet: fall back to the create.
      if (err instanceof ApiError && [403, 404, 405].includes(err.statusCode)) return null;
      throw err;
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
