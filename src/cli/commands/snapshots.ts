// list, describe, delete and verify: the snapshots of a storage location.
import type { Argv } from 'yargs';
import { CommandFailed, EXIT } from '../../core/errors.js';
import { validateSnapshotName } from '../../core/names.js';
import { snapshotStatus } from '../../snapshots/manifest.js';
import type { Command } from '../command.js';
import type { GlobalArgs } from '../context.js';
import {
  type CommonOptions,
  commonFrom,
  type KeyArgs,
  type KeyFiles,
  keyFilesFrom,
  keyOptions,
} from '../flags.js';
import { readKeys, verifiedRepository } from '../keys.js';
import { age, formatData, humanBytes, sanitize, selectionLines, table } from '../output.js';

export type ListOptions = Pick<CommonOptions, 'storage' | 'output'>;

function listOptionsFrom(a: GlobalArgs): ListOptions {
  const { storage, output } = commonFrom(a);
  return { ...(storage !== undefined ? { storage } : {}), output };
}

function nameOptionsFrom(a: GlobalArgs & NameArgs): DescribeOptions {
  validateSnapshotName(a.name);
  return { ...listOptionsFrom(a), name: a.name };
}

export interface ListAllOptions extends ListOptions {
  /** Also backups in progress and the leftovers of killed ones. */
  all: boolean;
}

export const listCommand: Command<{ all?: boolean }, ListAllOptions> = {
  command: 'list',
  aliases: ['ls'],
  describe: 'List snapshots in a storage location',
  builder: (y) =>
    y.option('all', {
      type: 'boolean',
      describe: 'Also show backups in progress and what killed ones left behind',
    }) as Argv<{ all?: boolean }>,
  options: (a) => ({ ...listOptionsFrom(a), all: a.all === true }),
  run: async ({ io, storage }, o) => {
    const { snapshots } = await storage(o.storage);
    const { snapshots: all, damaged, incomplete: found } = await snapshots.list();
    const incomplete = o.all ? found : [];
    for (const d of damaged) io.stderr.write(`warning: ${sanitize(d.message)}\n`);
    if (o.output !== 'table') {
      const data = o.all
        ? {
            snapshots: all,
            incomplete: incomplete.map((i) => ({ name: i.name, live: i.live, lock: i.lock })),
            damaged: damaged.map((d) => ({ name: d.snapshot, problem: d.problem })),
          }
        : all;
      io.stdout.write(await formatData(data, o.output));
      return;
    }
    if (all.length + damaged.length + incomplete.length === 0) {
      io.stderr.write(`No snapshots in ${snapshots.url}\n`);
      return;
    }
    const rows = all.map((m) => [
      m.name,
      snapshotStatus(m),
      age(m.completedAt),
      m.namespaces.join(',') || '-',
      m.totalObjects,
      humanBytes(m.archive.size),
      m.expiresAt ? age(m.expiresAt) : '<never>',
      snapshots.url,
    ]);
    for (const d of damaged)
      rows.push([d.snapshot, 'Damaged', '-', '-', '-', '-', '-', snapshots.url]);
    for (const i of incomplete) {
      const since = i.lock?.startedAt ?? i.lastModified.toISOString();
      rows.push([
        i.name,
        i.live ? 'InProgress' : 'Incomplete',
        age(since),
        '-',
        '-',
        '-',
        '-',
        snapshots.url,
      ]);
    }
    io.stdout.write(
      table(
        ['NAME', 'STATUS', 'CREATED', 'NAMESPACES', 'OBJECTS', 'SIZE', 'EXPIRES', 'LOCATION'],
        rows,
      ),
    );
  },
};

interface NameArgs {
  name: string;
}

export interface DescribeOptions extends ListOptions {
  name: string;
}

export const describeCommand: Command<NameArgs, DescribeOptions> = {
  command: 'describe <name>',
  describe: 'Show what a snapshot holds',
  builder: (y) => y.positional('name', { type: 'string', demandOption: true }) as Argv<NameArgs>,
  options: nameOptionsFrom,
  run: async ({ io, storage }, o) => {
    const { snapshots } = await storage(o.storage);
    const m = await snapshots.readManifest(o.name);
    if (o.output !== 'table') {
      io.stdout.write(await formatData(m, o.output));
      return;
    }
    const s = m.selection;
    const lines = [
      `Name:          ${m.name}`,
      `Status:        ${snapshotStatus(m)}`,
      `Location:      ${snapshots.url}`,
      `Cluster:       ${m.cluster.server} (${m.cluster.version})`,
      `Started:       ${m.startedAt}`,
      `Completed:     ${m.completedAt}`,
      `Expires:       ${m.expiresAt ?? '<never>'}`,
      `Labels:        ${
        Object.entries(m.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(',') || '<none>'
      }`,
      `Namespaces:    ${m.namespaces.join(', ') || '<none>'}`,
      'Selection:',
      ...selectionLines(s),
      `Archive:       ${m.archive.key} (${humanBytes(m.archive.size)}, sha256 ${m.archive.sha256}${m.velero ? ', as read: Velero records no checksum' : ''})`,
      ...(m.velero
        ? [
            `Velero:        phase ${m.velero.phase}, format ${m.velero.formatVersion}, ${m.velero.errors} error(s), ${m.velero.warnings} warning(s)`,
          ]
        : []),
      `Objects:       ${m.totalObjects}`,
      '',
    ];
    // Every value comes from snapshot.json, which whoever can write the bucket can write.
    io.stdout.write(lines.map((l) => sanitize(l)).join('\n'));
    io.stdout.write(
      table(
        ['RESOURCE', 'API VERSION', 'OBJECTS'],
        m.resources.map((r) => [r.resource, r.apiVersion, r.count]),
      ),
    );
    io.stdout.write(`\nWarnings:      ${m.warnings.length === 0 ? '<none>' : ''}\n`);
    for (const w of m.warnings) io.stdout.write(`  - ${sanitize(w.message)}\n`);
  },
};

interface NamesArgs {
  names: string[];
}

export interface DeleteOptions {
  storage?: string;
  names: string[];
}

export const deleteCommand: Command<NamesArgs, DeleteOptions> = {
  command: 'delete <names..>',
  describe: 'Delete snapshots (every stored object of each)',
  builder: (y) =>
    y.positional('names', { type: 'string', array: true, demandOption: true }) as Argv<NamesArgs>,
  options: (a) => {
    const names = a.names.map(String);
    for (const n of names) validateSnapshotName(n);
    return { ...(a.storage !== undefined ? { storage: a.storage } : {}), names };
  },
  run: async ({ io, storage }, o) => {
    const { snapshots } = await storage(o.storage);
    for (const name of o.names) {
      const r = await snapshots.delete(name);
      io.stdout.write(`snapshot ${name} deleted (${r.deleted} objects)\n`);
    }
  },
};

export interface VerifyOptions extends DescribeOptions {
  keys: KeyFiles;
}

export const verifyCommand: Command<NameArgs & KeyArgs, VerifyOptions> = {
  command: 'verify <name>',
  describe: 'Re-read a snapshot and check its checksum and every object',
  builder: (y) =>
    keyOptions(y).positional('name', { type: 'string', demandOption: true }) as Argv<
      NameArgs & KeyArgs
    >,
  options: (a, env) => ({ ...nameOptionsFrom(a), keys: keyFilesFrom(a, env) }),
  run: async ({ io, storage }, o) => {
    const opened = await storage(o.storage);
    const { snapshots, verifyKey } = await verifiedRepository(
      opened.snapshots,
      opened.location,
      o.keys,
    );
    const { verifySnapshot } = await import('../../snapshots/verify.js');
    // With a verify key, readManifest has refused anything but a good signature by it.
    const r = await verifySnapshot(snapshots, o.name, await readKeys(o.keys));
    // Checked: the key's own fingerprint (a second read could differ). Unchecked: what is stored.
    const stored = verifyKey ? undefined : await snapshots.readSignature(o.name);
    const signature = verifyKey
      ? { keyFingerprint: verifyKey.fingerprint, verified: true }
      : stored
        ? 'damaged' in stored
          ? { damaged: stored.damaged }
          : { keyFingerprint: stored.signature.keyFingerprint, verified: false }
        : undefined;
    if (o.output !== 'table')
      io.stdout.write(await formatData(signature ? { ...r, signature } : r, o.output));
    else if (r.ok && !r.contentsChecked)
      io.stdout.write(
        `snapshot ${r.name}: stored bytes intact (checksum matches); it is encrypted, pass --identity-file to check its contents\n`,
      );
    else if (r.ok && !r.checksumRecorded)
      io.stdout.write(
        `Velero backup ${r.name} is intact: ${r.objects} objects, each checked against its resource list; Velero records no checksum, so the stored bytes could not be checked against one\n`,
      );
    else if (r.ok)
      io.stdout.write(`snapshot ${r.name} is intact: ${r.objects} objects, checksum matches\n`);
    else {
      io.stdout.write(`snapshot ${r.name} is DAMAGED:\n`);
      for (const p of r.problems) io.stdout.write(`  - ${sanitize(p)}\n`);
    }
    if (o.output === 'table') io.stdout.write(`${signatureLine(signature)}\n`);
    if (!r.ok) throw new CommandFailed(EXIT.error, `snapshot ${r.name} is damaged`);
  },
};

/** `verify`'s line on the signature: who signed, and whether that was checked. */
export function signatureLine(
  s: { damaged: string } | { keyFingerprint: string; verified: boolean } | undefined,
): string {
  if (!s) return 'signature: none (unsigned)';
  if ('damaged' in s) return `signature: damaged (${sanitize(s.damaged)})`;
  return s.verified
    ? `signed by ${s.keyFingerprint}: signature verified`
    : `signed by ${s.keyFingerprint} (not checked: pass --verify-key to check it)`;
}
