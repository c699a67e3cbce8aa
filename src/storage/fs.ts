// ObjectStore on a local directory. Objects are files below the root; keys map to relative
// paths. Files are 0600 and directories 0700 because backups hold Secrets.
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { link, mkdir, open, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { AlreadyExistsError, NotFoundError, UserError } from '../core/errors.js';
import { assertValidKey } from './keys.js';
import type { ObjectInfo, ObjectStore } from './store.js';

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
/** Temporary files of in-flight writes: `.tmp-<16 hex>-<name>`. Never listed. */
const TEMP_RE = /^\.tmp-[0-9a-f]{16}-/;

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export class FsStore implements ObjectStore {
  readonly root: string;
  readonly url: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.url = pathToFileURL(this.root).href;
  }

  async put(key: string, body: Readable | Buffer): Promise<{ size: number }> {
    const path = this.pathOf(key);
    const tmp = await this.writeTemp(path, body).catch((err: unknown) => {
      throw this.describe(err, key);
    });
    try {
      await rename(tmp.path, path);
    } catch (err) {
      await unlink(tmp.path).catch(() => {});
      throw this.describe(err, key);
    }
    await this.syncDir(dirname(path));
    return { size: tmp.size };
  }

  async createExclusive(key: string, body: Buffer): Promise<void> {
    const path = this.pathOf(key);
    // Write the whole body to a temporary file, then hard-link it into place: link() fails
    // with EEXIST when the key exists, so exclusivity and complete contents are both atomic.
    const tmp = await this.writeTemp(path, body).catch((err: unknown) => {
      throw this.describe(err, key);
    });
    try {
      await link(tmp.path, path);
    } catch (err) {
      const code = errCode(err);
      if (code === 'EEXIST') {
        throw new AlreadyExistsError(`${this.url} object "${key}"`);
      }
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
        // A filesystem without hard links: fall back to O_EXCL (not atomic for readers, but
        // still exclusive).
        await this.createExclusiveWithOpen(path, key, body);
      } else {
        throw this.describe(err, key);
      }
    } finally {
      await unlink(tmp.path).catch(() => {});
    }
    await this.syncDir(dirname(path));
  }

  async get(key: string): Promise<Readable> {
    const path = this.pathOf(key);
    try {
      const fh = await open(path, 'r');
      if (!(await fh.stat()).isFile()) {
        await fh.close();
        throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      }
      return fh.createReadStream();
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
        throw new NotFoundError(`${this.url} object "${key}"`);
      }
      throw this.describe(err, key);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const path = this.pathOf(key);
    try {
      const st = await stat(path);
      if (!st.isFile()) return undefined;
      return { key, size: st.size, lastModified: st.mtime };
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw this.describe(err, key);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidKey(prefix, true);
    // Walk only the deepest directory the prefix names, then filter by the full prefix.
    const slash = prefix.lastIndexOf('/');
    const startKey = slash >= 0 ? prefix.slice(0, slash) : '';
    const found: ObjectInfo[] = [];
    await this.walk(startKey, prefix, found);
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.describe(err, key);
    }
    await this.removeEmptyParents(path);
  }

  /**
   * Removes the temporary files of unfinished writes of `key` (`.tmp-<hex>-<file>` next to
   * it), which a backup killed mid-write (kill -9, power loss) leaves behind: `list` never
   * shows them, so without this `delete` would leave them, and the snapshot's directory, behind.
   */
  async removeIncomplete(key: string): Promise<number> {
    const path = this.pathOf(key);
    const dir = dirname(path);
    const file = path.slice(dir.length + 1);
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return 0;
      throw this.describe(err, key);
    }
    let removed = 0;
    for (const e of entries) {
      const m = TEMP_RE.exec(e);
      if (!m || e.slice(m[0].length) !== file) continue;
      try {
        await unlink(join(dir, e));
        removed++;
      } catch (err) {
        if (errCode(err) !== 'ENOENT') throw this.describe(err, key);
      }
    }
    if (removed > 0) await this.removeEmptyParents(path);
    return removed;
  }

  /** Removes now-empty parent directories of `path`, never the root itself. */
  private async removeEmptyParents(path: string): Promise<void> {
    for (let dir = dirname(path); dir !== this.root && dir.startsWith(this.root + sep); ) {
      try {
        await rmdir(dir);
      } catch {
        break; // not empty (or gone): stop
      }
      dir = dirname(dir);
    }
  }

  /** The absolute path of a key; throws for keys that could escape the root. */
  private pathOf(key: string): string {
    assertValidKey(key);
    const segments = key.split('/');
    if (segments.some((s) => TEMP_RE.test(s))) {
      throw new Error(`invalid storage key ${JSON.stringify(key)}: reserved temporary file name`);
    }
    return join(this.root, ...segments);
  }

  private async walk(dirKey: string, prefix: string, out: ObjectInfo[]): Promise<void> {
    const dir = dirKey === '' ? this.root : join(this.root, ...dirKey.split('/'));
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    for (const e of entries) {
      if (TEMP_RE.test(e.name)) continue;
      const key = dirKey === '' ? e.name : `${dirKey}/${e.name}`;
      if (e.isDirectory()) {
        // Descend only where keys can still match the prefix.
        const asPrefix = `${key}/`;
        if (asPrefix.startsWith(prefix) || prefix.startsWith(asPrefix)) {
          await this.walk(key, prefix, out);
        }
      } else if (e.isFile() && key.startsWith(prefix)) {
        try {
          const st = await stat(join(dir, e.name));
          out.push({ key, size: st.size, lastModified: st.mtime });
        } catch (err) {
          if (errCode(err) !== 'ENOENT') throw err; // deleted while listing
        }
      }
    }
  }

  /** Writes `body` to a fresh temporary file next to `path`, synced, mode 0600. */
  private async writeTemp(
    path: string,
    body: Readable | Buffer,
  ): Promise<{ path: string; size: number }> {
    const dir = dirname(path);
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    const tmp = join(dir, `.tmp-${randomBytes(8).toString('hex')}-${path.slice(dir.length + 1)}`);
    const fh = await open(tmp, 'wx', FILE_MODE);
    let size = 0;
    try {
      if (Buffer.isBuffer(body)) {
        await fh.writeFile(body);
        size = body.length;
      } else {
        for await (const chunk of body) {
          const buf: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          await fh.write(buf);
          size += buf.length;
        }
      }
      await fh.sync();
      await fh.close();
    } catch (err) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      if (!Buffer.isBuffer(body) && !body.destroyed) body.destroy();
      throw err;
    }
    return { path: tmp, size };
  }

  private async createExclusiveWithOpen(path: string, key: string, body: Buffer): Promise<void> {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(path, 'wx', FILE_MODE);
    } catch (err) {
      if (errCode(err) === 'EEXIST') throw new AlreadyExistsError(`${this.url} object "${key}"`);
      throw this.describe(err, key);
    }
    try {
      await fh.writeFile(body);
      await fh.sync();
      await fh.close();
    } catch (err) {
      await fh.close().catch(() => {});
      await unlink(path).catch(() => {});
      throw this.describe(err, key);
    }
  }

  /** Makes a rename/link durable; best effort (not every filesystem can fsync a directory). */
  private async syncDir(dir: string): Promise<void> {
    try {
      const fh = await open(dir, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch {
      // ignore
    }
  }

  /** Turns filesystem errors a user can fix into UserErrors; passes others through. */
  private describe(err: unknown, key: string): Error {
    if (err instanceof UserError) return err;
    const code = errCode(err);
    const where = join(this.root, ...key.split('/'));
    switch (code) {
      case 'EACCES':
      case 'EPERM':
        return new UserError(
          `permission denied on ${where}`,
          `check the owner and permissions of ${this.root}, or choose another location with --storage`,
        );
      case 'EROFS':
        return new UserError(
          `${this.root} is on a read-only filesystem`,
          'choose another location with --storage',
        );
      case 'ENOSPC':
      case 'EDQUOT':
        return new UserError(
          `no space left for ${where}`,
          `free some space on the filesystem of ${this.root} (e.g. kubectl snapshot delete old snapshots)`,
        );
      case 'ENOTDIR':
      case 'EEXIST':
        return new UserError(
          `cannot store "${key}" under ${this.root}: a file is in the way of a directory`,
          `check that ${this.root} is a directory used only by kubectl-snapshot`,
        );
      default:
        return err instanceof Error ? err : new Error(String(err));
    }
  }
}
