// `schedule describe`: one schedule's options, rights, runs and next runs.
import { describeRule, names } from '../../../schedule/render.js';
import { KEEP_RULES } from '../../../snapshots/retention.js';
import type { Command } from '../../command.js';
import { formatData, sanitize, selectionLines, table } from '../../output.js';
import {
  lastSnapshotField,
  lastSnapshots,
  type NameArgs,
  nameOptions,
  type OneScheduleOptions,
  oneScheduleFrom,
} from './shared.js';

export type ScheduleDescribeOptions = OneScheduleOptions;

export const describeCommand: Command<NameArgs, ScheduleDescribeOptions> = {
  command: 'describe <name>',
  describe: 'Show a schedule: its options, rights, runs and next runs',
  builder: nameOptions,
  options: oneScheduleFrom,
  run: async (deps, o) => {
    const { io } = deps;
    const { describeSchedule } = await import('../../../schedule/status.js');
    const d = await describeSchedule(await deps.kube(o.kube), o.name, o.installNamespace);
    const last = (await lastSnapshots(deps, [d])).get(d.name);
    if (o.output !== 'table') {
      io.stdout.write(await formatData({ ...d, ...lastSnapshotField(last) }, o.output));
      return;
    }
    const sel = d.selection;
    const keep = KEEP_RULES.filter((r) => (d.keep?.[r] ?? 0) > 0)
      .map((r) => `keep-${r} ${d.keep?.[r]}`)
      .join(', ');
    const lines = [
      `Name:             ${d.name}`,
      `Namespace:        ${d.namespace}`,
      `Schedule:         ${d.schedule}${d.timeZone ? ` (${d.timeZone})` : ' (controller manager time zone)'}`,
      `Suspended:        ${d.suspended}`,
      `Image:            ${d.image ?? '<unknown>'}`,
      `Storage:          ${d.storage ?? '<unknown>'}`,
      `Service account:  ${d.serviceAccount}`,
    ];
    if (d.signed)
      lines.push(`Signing:          signed with the key in Secret ${d.namespace}/${secretName(d)}`);
    if (sel) {
      lines.push('Backs up:', ...selectionLines(sel));
    }
    lines.push(
      `Retention:        ${keep || 'keep everything'}${d.ttl ? `; snapshots expire after ${d.ttl}` : ''}`,
      `Last scheduled:   ${d.lastScheduleTime ?? '<never>'}`,
      `Last successful:  ${d.lastSuccessfulTime ?? '<never>'}`,
      `Next runs:        ${d.nextRuns.join(', ') || (d.suspended ? '<suspended>' : '<none>')}`,
      `Last snapshot:    ${
        last?.error !== undefined
          ? `<unknown: ${last.error}>`
          : last?.manifest
            ? `${last.manifest.name} (completed ${last.manifest.completedAt}, ${last.manifest.totalObjects} objects)`
            : '<none>'
      }`,
      'Rights (read-only):',
    );
    for (const role of d.rules) {
      lines.push(`  ${role.role}${role.namespace ? ` in ${role.namespace}` : ''}:`);
      for (const rule of role.rules as Parameters<typeof describeRule>[0][])
        lines.push(`    ${describeRule(rule)}`);
    }
    lines.push('Jobs:');
    if (d.jobs.length === 0) lines.push('  <none>');
    // Values come from the CronJob's annotation and the snapshots' snapshot.json.
    io.stdout.write(`${lines.map((l) => sanitize(l)).join('\n')}\n`);
    if (d.jobs.length > 0) {
      const rows = table(
        ['NAME', 'STATUS', 'TRIGGER', 'CREATED', 'COMPLETED'],
        d.jobs.map((j) => [
          j.name,
          j.status,
          j.manual ? 'manual' : 'schedule',
          j.created ?? '',
          j.completed ?? '',
        ]),
      );
      io.stdout.write(rows.replace(/^(?=.)/gm, '  '));
    }
  },
};

const secretName = (d: { name: string; namespace: string }) => names(d.name, d.namespace).secret;
