// The human report of a restore or diff: a table per resource, then what differs, what could
// not be validated and what failed, then the totals. Pure.
import { OWNERS_NOT_RESTORED } from '../../restore/ownership.js';
import type { RestoreReport } from '../../restore/results.js';
import { sanitize, table } from '../output.js';

export interface SummaryRow {
  kind: string;
  resource: string;
  created: number;
  exists: number;
  skipped: number;
  failed: number;
}

/** Summary rows per kind: created, skipped (incl. existing), failed. */
export function summarize(report: RestoreReport): SummaryRow[] {
  const rows = new Map<string, SummaryRow>();
  for (const r of report.results) {
    const row = rows.get(r.resource) ?? {
      kind: r.kind,
      resource: r.resource,
      created: 0,
      exists: 0,
      skipped: 0,
      failed: 0,
    };
    if (r.outcome === 'created' || r.outcome === 'would-create') row.created++;
    else if (
      r.outcome === 'exists-identical' ||
      r.outcome === 'exists-differs' ||
      r.outcome === 'exists'
    )
      row.exists++;
    else if (r.outcome === 'failed') row.failed++;
    else row.skipped++;
    rows.set(r.resource, row);
  }
  return [...rows.values()].sort((a, b) => a.resource.localeCompare(b.resource));
}

function objectName(r: { resource: string; namespace?: string; name: string }): string {
  return sanitize(`${r.resource}/${r.name}${r.namespace ? ` -n ${r.namespace}` : ''}`);
}

export function restoreReportText(report: RestoreReport, verb: 'restore' | 'diff'): string {
  const t = report.totals;
  const created = verb === 'restore' && !report.dryRun;
  const title =
    verb === 'diff'
      ? `Diff of snapshot ${report.snapshot} against the cluster`
      : report.dryRun
        ? `Restore of ${report.snapshot} (dry run, ${report.dryRun}): nothing was changed`
        : `Restore of ${report.snapshot}`;
  let out = `${sanitize(title)}\n\n`;
  out += escalationWarning(report);
  out += table(
    ['RESOURCE', 'KIND', created ? 'CREATED' : 'TO CREATE', 'EXISTS', 'SKIPPED', 'FAILED'],
    summarize(report).map((r) => [r.resource, r.kind, r.created, r.exists, r.skipped, r.failed]),
  );
  const failed = report.results.filter((r) => r.outcome === 'failed');
  const differs = report.results.filter((r) => r.outcome === 'exists-differs');
  const unvalidated = report.results.filter((r) => r.outcome === 'not-validated');
  if (differs.length > 0) {
    out += `\nExisting objects that differ from the snapshot (left untouched):\n`;
    for (const r of differs) {
      out += `  ${objectName(r)}\n`;
      for (const d of r.diff ?? [])
        out += `      ${sanitize(`${d.path}: cluster has ${shown(d.before)}, snapshot has ${shown(d.after)}`)}\n`;
    }
  }
  out += unvalidatedSection(unvalidated);
  if (failed.length > 0) {
    out += `\nFailed:\n`;
    for (const r of failed) out += `  ${objectName(r)}: ${sanitize(String(r.message))}\n`;
  }
  out += ownersSection(report);
  out += bareSection(report);
  out += dependencySection(report);
  const references = t.exists > 0 ? `, ${t.exists} exist (references, not compared)` : '';
  const notValidated = t['not-validated'] > 0 ? `, ${t['not-validated']} not validated` : '';
  out += `\n${created ? t.created : t['would-create']} ${created ? 'created' : 'to create'}, ${t['exists-identical']} identical, ${t['exists-differs']} differ${references}, ${t.skipped} skipped${notValidated}, ${t.failed} failed\n`;
  return out;
}

/** A field's value in a diff line; a field one side lacks is "(not set)", not "undefined". */
function shown(v: unknown): string {
  return v === undefined ? '(not set)' : JSON.stringify(v);
}

/** Objects not validated, grouped by why (a dry run into a new namespace: one reason for all). */
function unvalidatedSection(unvalidated: RestoreReport['results']): string {
  if (unvalidated.length === 0) return '';
  const byReason = new Map<string, RestoreReport['results']>();
  for (const r of unvalidated) {
    const reason = String(r.message);
    byReason.set(reason, [...(byReason.get(reason) ?? []), r]);
  }
  let out = `\n${unvalidated.length} object(s) not validated:\n`;
  for (const [reason, rs] of byReason) {
    const names = rs.slice(0, 3).map(objectName).join(', ');
    const more = rs.length > 3 ? `, … (${rs.length} in all)` : '';
    out += `  ${names}${more}: ${sanitize(reason)}\n`;
  }
  return out;
}

/** Namespaces made from their name alone: the snapshot has no Namespace object for them. */
function bareSection(report: RestoreReport): string {
  const bare = report.results.filter(
    (r) => r.bare && (r.outcome === 'created' || r.outcome === 'would-create'),
  );
  if (bare.length === 0) return '';
  const verb = bare[0]?.outcome === 'created' ? 'created' : 'to create';
  return `\n${bare.length} namespace(s) ${verb} bare, without labels or annotations (the snapshot holds no Namespace object for them): ${bare.map((r) => sanitize(r.name)).join(', ')}\n`;
}

/** Created objects that did not get the backup's field managers back (ownership-run.ts). */
function ownersSection(report: RestoreReport): string {
  const lost = report.results.filter(
    (r) => r.outcome === 'created' && r.message?.startsWith(OWNERS_NOT_RESTORED),
  );
  if (lost.length === 0) return '';
  let out = `\n${lost.length} created object(s) without their field owners (kubectl-snapshot owns their fields):\n`;
  for (const r of lost) out += `  ${objectName(r)}: ${sanitize(String(r.message))}\n`;
  return out;
}

/**
 * What the restored objects need of the cluster that neither it nor the snapshot has
 * (restore/dependencies.ts), and what could not be checked, in one line per kind.
 */
export function dependencySection(report: RestoreReport): string {
  let out = '';
  const missing = report.missingDependencies ?? [];
  if (missing.length > 0) {
    out += `\nMissing dependencies (neither the cluster nor the snapshot has them):\n`;
    for (const m of missing) {
      const more = m.neededByCount - m.neededBy.length;
      const by = `${m.neededBy.join(', ')}${more > 0 ? `, … (${m.neededByCount} in all)` : ''}`;
      out += `  ${sanitize(`${m.reason}; needed by ${by}`)}\n`;
    }
  }
  const unchecked = report.dependenciesNotChecked ?? [];
  if (unchecked.length > 0) out += `\nDependencies not checked (not counted as missing):\n`;
  for (const u of unchecked) {
    const names = u.names.slice(0, 5).join(', ') + (u.names.length > 5 ? ', …' : '');
    out += `  ${sanitize(`${u.names.length} ${u.kind}(s) (${names}): ${u.reason}`)}\n`;
  }
  return out;
}

/**
 * The warning before the summary: bindings that grant wide rights (a ClusterRoleBinding, or a
 * RoleBinding to cluster-admin, admin, edit or a ClusterRole with `*` verbs). Empty when none.
 */
export function escalationWarning(report: RestoreReport): string {
  const e = report.escalations ?? [];
  if (e.length === 0) return '';
  let out = `warning: ${e.length} binding(s) in this ${report.dryRun ? 'plan' : 'snapshot'} grant wide RBAC rights; check who they name before trusting the snapshot:\n`;
  for (const x of e) out += `  ${objectName(x)}: ${sanitize(x.reason)}\n`;
  return `${out}\n`;
}
