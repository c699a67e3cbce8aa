import type { Argv, CommandModule } from 'yargs';
import type { SnapshotManifest } from '../../core/types.js';
import {
  decryptionKeyFrom,
  type GlobalArgs,
  type Io,
  type KeyArgs,
  keyOptions,
  openSnapshots,
  type RunState,
} from '../context.js';
import { age, formatData, humanBytes, parseOutput, table } from '../output.js';

function status(m: SnapshotManifest): string {
  return m.warnings.length > 0 ? 'CompletedWithWarnings' : 'Completed';
}

export function listCommand(io: Io): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'list',
    aliases: ['ls'],
    describe: 'List snapshots in a storage location',
    handler: async (a) => {
      const format = parseOutput(a.output);
      const snapshots = await openSnapshots(a, io.env);
      const all = await snapshots.list();
      if (format !== 'table') {
        io.stdout.write(await formatData(all, format));
        return;
      }
      if (all.length === 0) {
        io.stderr.write(`No snapshots in ${snapshots.url}\n`);
        return;
      }
      const rows = all.map((m) => [
        m.name,
        status(m),
        age(m.completedAt),
        m.namespaces.join(',') || '-',
        m.totalObjects,
        humanBytes(m.archive.size),
        m.expiresAt ? age(m.expiresAt) : '<never>',
        snapshots.url,
      ]);
      io.stdout.write(
        table(
          ['NAME', 'STATUS', 'CREATED', 'NAMESPACES', 'OBJECTS', 'SIZE', 'EXPIRES', 'LOCATION'],
          rows,
        ),
      );
    },
  };
}

interface NameArgs extends GlobalArgs {
  name: string;
}

export function describeCommand(io: Io): CommandModule<GlobalArgs, NameArgs> {
  return {
    command: 'describe <name>',
    describe: 'Show what a snapshot holds',
    builder: (y) => y.positional('name', { type: 'string', demandOption: true }) as Argv<NameArgs>,
    handler: async (a) => {
      const format = parseOutput(a.output);
      const snapshots = await openSnapshots(a, io.env);
      const m = await snapshots.readManifest(a.name);
      if (format !== 'table') {
        io.stdout.write(await formatData(m, format));
        return;
      }
      const s = m.selection;
      const lines = [
        `Name:          ${m.name}`,
        `Status:        ${status(m)}`,
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
        `  namespaces:          ${s.allNamespaces ? '* (all)' : s.namespaces.join(', ')}`,
        `  excluded namespaces: ${s.excludeNamespaces.join(', ') || '<none>'}`,
        `  label selector:      ${s.labelSelector ?? '<none>'}`,
        `  resources:           ${s.includeResources.join(', ') || '*'}`,
        `  excluded resources:  ${s.excludeResources.join(', ') || '<none>'}`,
        `  cluster resources:   ${s.includeClusterResources}`,
        `Archive:       ${m.archive.key} (${humanBytes(m.archive.size)}, sha256 ${m.archive.sha256})`,
        `Objects:       ${m.totalObjects}`,
        '',
      ];
      io.stdout.write(lines.join('\n'));
      io.stdout.write(
        table(
          ['RESOURCE', 'API VERSION', 'OBJECTS'],
          m.resources.map((r) => [r.resource, r.apiVersion, r.count]),
        ),
      );
      io.stdout.write(`\nWarnings:      ${m.warnings.length === 0 ? '<none>' : ''}\n`);
      for (const w of m.warnings) io.stdout.write(`  - ${w.message}\n`);
    },
  };
}

interface NamesArgs extends GlobalArgs {
  names: string[];
}

export function deleteCommand(io: Io): CommandModule<GlobalArgs, NamesArgs> {
  return {
    command: 'delete <names..>',
    describe: 'Delete snapshots (every stored object of each)',
    builder: (y) =>
      y.positional('names', { type: 'string', array: true, demandOption: true }) as Argv<NamesArgs>,
    handler: async (a) => {
      const snapshots = await openSnapshots(a, io.env);
      for (const name of a.names) {
        const r = await snapshots.delete(String(name));
        io.stdout.write(`snapshot ${name} deleted (${r.deleted} objects)\n`);
      }
    },
  };
}

export function verifyCommand(
  io: Io,
  state: RunState,
): CommandModule<GlobalArgs, NameArgs & KeyArgs> {
  return {
    command: 'verify <name>',
    describe: 'Re-read a snapshot and check its checksum and every object',
    builder: (y) =>
      keyOptions(y).positional('name', { type: 'string', demandOption: true }) as Argv<
        NameArgs & KeyArgs
      >,
    handler: async (a) => {
      const format = parseOutput(a.output);
      const snapshots = await openSnapshots(a, io.env);
      const { verifySnapshot } = await import('../../snapshots/verify.js');
      const r = await verifySnapshot(snapshots, a.name, await decryptionKeyFrom(a, io.env));
      if (format !== 'table') io.stdout.write(await formatData(r, format));
      else if (r.ok && !r.contentsChecked)
        io.stdout.write(
          `snapshot ${r.name}: stored bytes intact (checksum matches); it is encrypted, pass --identity-file to check its contents\n`,
        );
      else if (r.ok)
        io.stdout.write(`snapshot ${r.name} is intact: ${r.objects} objects, checksum matches\n`);
      else {
        io.stdout.write(`snapshot ${r.name} is DAMAGED:\n`);
        for (const p of r.problems) io.stdout.write(`  - ${p}\n`);
      }
      if (!r.ok) state.exitCode = 1;
    },
  };
}
