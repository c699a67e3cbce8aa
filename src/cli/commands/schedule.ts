// `schedule create|list|describe|delete|run|suspend|resume` (and the hidden `exec`):
// periodic backups as CronJobs that run this same binary in the cluster.
import type { CommandModule } from 'yargs';
import { adapt, type Wiring } from '../command.js';
import type { GlobalArgs } from '../context.js';
import { createCommand } from './schedule/create.js';
import { describeCommand } from './schedule/describe.js';
import { execCommand } from './schedule/exec.js';
import { listCommand } from './schedule/list.js';
import { deleteCommand, resumeCommand, runCommand, suspendCommand } from './schedule/manage.js';

export function scheduleCommand(w: Wiring): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'schedule <command>',
    describe: 'Periodic backups as CronJobs that run this same binary in the cluster',
    builder: (y) =>
      y
        .command(adapt(createCommand, w, 'schedule create'))
        .command(adapt(listCommand, w, 'schedule list'))
        .command(adapt(describeCommand, w, 'schedule describe'))
        .command(adapt(deleteCommand, w, 'schedule delete'))
        .command(adapt(runCommand, w, 'schedule run'))
        .command(adapt(suspendCommand, w, 'schedule suspend'))
        .command(adapt(resumeCommand, w, 'schedule resume'))
        .command(adapt(execCommand, w, 'schedule exec'))
        .demandCommand(1, 'name a schedule command; see --help'),
    handler: () => {},
  };
}
