// Where a schedule writes its snapshots, and the credentials its Secret carries there.
import { readFile } from 'node:fs/promises';
import { errorMessage, UserError } from '../core/errors.js';
import { resolveLocation } from '../storage/locations.js';
import { s3CredentialsFromEnv } from '../storage/s3-credentials.js';
import type { S3Location } from '../storage/s3-location.js';

export interface ScheduleStorage {
  location: S3Location;
  /** The named location requires encrypted backups. */
  requireEncryption: boolean;
  /** The named location requires snapshots signed by this Ed25519 public key (PEM). */
  verifyKey?: string;
  /** Environment variables for the Secret. */
  credentials: Record<string, string>;
  caPem?: string;
  warnings: string[];
}

/**
 * The storage a schedule writes to and the credentials its Secret gets, from --storage (or
 * KUBECTL_SNAPSHOT_STORAGE / the default location) and the creator's environment. Only S3
 * works from a Pod; a directory would be the container's own throwaway filesystem.
 */
export async function resolveScheduleStorage(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<ScheduleStorage> {
  const loc = await resolveLocation(flag, env);
  if (loc.kind !== 's3') {
    throw new UserError(
      loc.source === 'default'
        ? 'no storage location given: a schedule needs S3 storage that the cluster can reach'
        : `storage location ${loc.url} is a directory: a scheduled backup runs in a Pod, whose files are thrown away`,
      'pass --storage s3://bucket/prefix?endpoint=… (or a named S3 location from "kubectl snapshot location add"), with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set',
    );
  }
  if (loc.layout === 'velero') {
    throw new UserError(
      `storage location ${loc.url} is a Velero backup storage location: it is read-only for us (Velero owns its files)`,
      'schedule backups to a location of ours; Velero backups there stay readable with restore and diff',
    );
  }
  const c = s3CredentialsFromEnv(env);
  const credentials: Record<string, string> = {
    AWS_ACCESS_KEY_ID: c.accessKey,
    AWS_SECRET_ACCESS_KEY: c.secretKey,
  };
  const warnings: string[] = [];
  if (c.sessionToken) {
    credentials.AWS_SESSION_TOKEN = c.sessionToken;
    warnings.push(
      'AWS_SESSION_TOKEN is set: temporary credentials expire, and the schedule fails once they do; prefer long-lived credentials for a dedicated user with access to this bucket only',
    );
  }
  let caPem: string | undefined;
  if (loc.caFile) {
    try {
      caPem = await readFile(loc.caFile, 'utf8');
    } catch (err) {
      throw new UserError(
        `cannot read the storage CA file ${loc.caFile}: ${errorMessage(err)}`,
        'the schedule copies it into a ConfigMap; check caFile= in the storage URL',
      );
    }
  }
  const { url: _u, source: _s, name: _n, requireEncryption, verifyKey, ...location } = loc;
  return {
    location,
    requireEncryption: requireEncryption === true,
    ...(verifyKey !== undefined ? { verifyKey } : {}),
    credentials,
    ...(caPem !== undefined ? { caPem } : {}),
    warnings,
  };
}
