// `schedule list`: the schedules of an install namespace and the newest snapshot of each.
import type { Argv } from 'yargs';
import type { Command } from '../../command.js';
import { formatData, type OutputFormat, parseOutput, sanitize, table } from '../../output.js';
import {
  type InstallArgs,
  installOption,
  lastSnapshotField,
  lastSnapshots,
  type ScheduleTarget,
  targetFrom,
  when,
} from './shared.js';

export interface ScheduleListOptions extends ScheduleTarget {
  output: OutputFormat;
}

export const listCommand: Command<InstallArgs, ScheduleListOptions> = {
  command: 'list',
  aliases: ['ls'],
  describe: 'List schedules',
  builder: (y) => installOption(y) as Argv<InstallArgs>,
  options: (a) => ({ ...targetFrom(a), output: parseOutput(a.output) }),
  run: async (deps, o) => {
    const { io } = deps;
    const { listSchedules } = await import('../../../schedule/status.js');
    const infos = await listSchedules(await deps.kube(o.kube), o.installNamespace);
    const last = await lastSnapshots(deps, infos);
    for (const [name, l] of last)
      if (l.error !== undefined)
        io.stderr.write(
          `warning: cannot read the snapshots of schedule ${name}: ${sanitize(l.error)}\n`,
        );
    if (o.output !== 'table') {
      io.stdout.write(
        await formatData(
          infos.map((s) => ({ ...s, ...lastSnapshotField(last.get(s.name)) })),
          o.output,
        ),
      );
      return;
    }
    if (infos.length === 0) {
      io.stderr.write(`No schedules in namespace ${o.installNamespace}\n`);
      return;
    }
    io.stdout.write(
      table(
        [
          'NAME',
          'SCHEDULE',
          'TIMEZONE',
          'SUSPEND',
          'ACTIVE',
          'LAST RUN',
          'NEXT RUN',
          'LAST SNAPSHOT',
        ],
        infos.map((s) => {
          const l = last.get(s.name);
          return [
            s.name,
            s.schedule,
            s.timeZone ?? '<none>',
            String(s.suspended),
            s.active,
            when(s.lastScheduleTime),
            s.suspended ? '<suspended>' : when(s.nextRun),
            l?.error !== undefined
              ? '<unknown>'
              : l?.manifest
                ? `${l.manifest.name} (${when(l.manifest.completedAt)})`
                : '<none>',
          ];
        }),
      ),
    );
  },
};
