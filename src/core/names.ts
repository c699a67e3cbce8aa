import { UserError } from './errors.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/**
 * Snapshot names are DNS-1123 subdomains (as Kubernetes object names), so they are safe as
 * storage keys, file names and label values alike; label values cap them at 63 characters.
 */
export function validateSnapshotName(name: string): void {
  if (!isDns1123Label(name)) {
    throw new UserError(
      `invalid snapshot name "${name}": use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit`,
      'pick another name, or leave it out to get <namespace>-<timestamp>',
    );
  }
}

export function validateNamespaceName(ns: string): void {
  if (!isDns1123Label(ns)) {
    throw new UserError(
      `invalid namespace name "${ns}"`,
      'namespace names are DNS-1123 labels: lowercase letters, digits and -',
    );
  }
}

/** `<first-namespace>-<UTC yyyymmdd-hhmmss>`: readable, unique per second, sorts by time. */
export function defaultSnapshotName(
  namespaces: string[],
  allNamespaces: boolean,
  now: Date,
): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const first = allNamespaces ? 'all' : (namespaces[0] ?? 'cluster');
  const prefix =
    namespaces.length > 1 && !allNamespaces ? `${first}-and-${namespaces.length - 1}` : first;
  return `${prefix.slice(0, 63 - stamp.length - 1)}-${stamp}`.replace(/-+/g, '-');
}
