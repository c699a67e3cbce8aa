// `schedule delete`, `run`, `suspend` and `resume`: act on existing schedules.
import type { Argv } from 'yargs';
import type { Command } from '../../command.js';
import { formatData } from '../../output.js';
import {
  type InstallArgs,
  installOption,
  type NameArgs,
  nameOptions,
  type OneScheduleOptions,
  oneScheduleFrom,
  type ScheduleTarget,
  targetFrom,
} from './shared.js';

interface NamesArgs extends InstallArgs {
  names: string[];
}

export interface ScheduleDeleteOptions extends ScheduleTarget {
  names: string[];
}

export const deleteCommand: Command<NamesArgs, ScheduleDeleteOptions> = {
  command: 'delete <names..>',
  describe: 'Delete schedules and everything they created in the cluster (snapshots stay)',
  builder: (y) =>
    installOption(y).positional('names', {
      type: 'string',
      array: true,
      demandOption: true,
    }) as Argv<NamesArgs>,
  options: (a) => ({ ...targetFrom(a), names: a.names.map(String) }),
  run: async ({ io, kube }, o) => {
    const { deleteSchedule } = await import('../../../schedule/owned.js');
    const client = await kube(o.kube);
    for (const name of o.names) {
      const removed = await deleteSchedule(client, name, o.installNamespace);
      for (const ref of removed) io.stdout.write(`${ref} deleted\n`);
      // deleteSchedule refuses a name that is no schedule; an empty answer deleted nothing.
      if (removed.length > 0) io.stdout.write(`schedule ${name} deleted\n`);
    }
  },
};

export type ScheduleRunOptions = OneScheduleOptions;

export const runCommand: Command<NameArgs, ScheduleRunOptions> = {
  command: 'run <name>',
  describe: "Start a run now: a Job from the schedule's CronJob",
  builder: nameOptions,
  options: oneScheduleFrom,
  run: async ({ io, kube }, o) => {
    const { runScheduleNow } = await import('../../../schedule/owned.js');
    const job = await runScheduleNow(await kube(o.kube), o.name, o.installNamespace);
    if (o.output !== 'table') io.stdout.write(await formatData(job, o.output));
    else
      io.stdout.write(
        `job.batch/${job.metadata.name} created in namespace ${o.installNamespace}\n`,
      );
  },
};

export interface ScheduleSuspendOptions extends ScheduleTarget {
  name: string;
  /** true: suspend; false: resume. */
  suspend: boolean;
}

function setSuspendedCommand(suspend: boolean): Command<NameArgs, ScheduleSuspendOptions> {
  return {
    command: `${suspend ? 'suspend' : 'resume'} <name>`,
    describe: suspend ? 'Stop a schedule from starting runs' : 'Let a suspended schedule run again',
    builder: nameOptions,
    options: (a) => ({ ...targetFrom(a), name: a.name, suspend }),
    run: async ({ io, kube }, o) => {
      const { setSuspended } = await import('../../../schedule/owned.js');
      await setSuspended(await kube(o.kube), o.name, o.installNamespace, o.suspend);
      io.stdout.write(`schedule ${o.name} ${o.suspend ? 'suspended' : 'resumed'}\n`);
    },
  };
}

export const suspendCommand = setSuspendedCommand(true);
export const resumeCommand = setSuspendedCommand(false);
