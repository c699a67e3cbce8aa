// argv → the signing options of backup, restore, diff, verify, location add, schedule create
// and schedule exec; key files are named here and read only when the command runs.
import { describe, expect, it } from 'vitest';
import type { BackupCommandOptions } from '../../../src/cli/commands/backup.js';
import type { AddOptions } from '../../../src/cli/commands/location.js';
import type { RestoreCommandOptions } from '../../../src/cli/commands/restore.js';
import type { ScheduleCreateOptions } from '../../../src/cli/commands/schedule/create.js';
import type { ScheduleExecOptions } from '../../../src/cli/commands/schedule/exec.js';
import type { VerifyOptions } from '../../../src/cli/commands/snapshots.js';
import { optionsOf, refusal } from './harness.js';

const S3 = 's3://bucket/p?endpoint=https://minio:9000&region=us-east-1';

describe('signing flags', () => {
  it('backup --sign-key names the key file (not read while parsing)', async () => {
    const o = await optionsOf<BackupCommandOptions>(
      ['backup', '-n', 'shop', '--sign-key', '/nonexistent/sign.pem'],
      'backup',
    );
    expect(o.signKeyFile).toBe('/nonexistent/sign.pem');
    const none = await optionsOf<BackupCommandOptions>(['backup', '-n', 'shop'], 'backup');
    expect(none.signKeyFile).toBeUndefined();
  });

  it('an empty --sign-key or --verify-key is an error, not "unsigned"', async () => {
    expect(await refusal(['backup', '-n', 'shop', '--sign-key', ''])).toMatch(
      /--sign-key needs a value/,
    );
    expect(await refusal(['restore', 'snap', '--verify-key', ''])).toMatch(
      /--verify-key needs a value/,
    );
    expect(await refusal(['location', 'add', 'x', '/tmp/x', '--verify-key', ' '])).toMatch(
      /--verify-key needs a value/,
    );
  });

  it('restore, diff and verify take --verify-key as a key file', async () => {
    const r = await optionsOf<RestoreCommandOptions>(
      ['restore', 'snap', '--verify-key', 'pub.pem'],
      'restore',
    );
    expect(r.keys).toEqual({ verifyKeyFile: 'pub.pem' });
    const d = await optionsOf<RestoreCommandOptions>(
      ['diff', 'snap', '--verify-key', 'a.pem', '--verify-key', 'b.pem'],
      'diff',
    );
    expect(d.keys).toEqual({ verifyKeyFile: 'b.pem' });
    const v = await optionsOf<VerifyOptions>(['verify', 'snap', '--verify-key', 'p.pem'], 'verify');
    expect(v.keys).toEqual({ verifyKeyFile: 'p.pem' });
  });

  it('location add --verify-key names the public key file', async () => {
    const o = await optionsOf<AddOptions>(
      ['location', 'add', 'vault', S3, '--verify-key', 'pub.pem'],
      'location add',
    );
    expect(o).toMatchObject({ name: 'vault', verifyKeyFile: 'pub.pem' });
  });

  it('schedule create --sign-key names the file; exec --sign takes the key from the Secret env', async () => {
    const c = await optionsOf<ScheduleCreateOptions>(
      ['schedule', 'create', 'n', '-n', 'shop', '--schedule', '@daily', '--sign-key', 'k.pem'],
      'schedule create',
    );
    expect(c.signKeyFile).toBe('k.pem');
    const e = await optionsOf<ScheduleExecOptions>(
      ['schedule', 'exec', 'n', '-n', 'shop', '--sign'],
      'schedule exec',
      { KUBECTL_SNAPSHOT_SIGN_KEY: 'PEM' },
    );
    expect(e.signingKeyPem).toBe('PEM');
    expect(await refusal(['schedule', 'exec', 'n', '-n', 'shop', '--sign'])).toMatch(
      /KUBECTL_SNAPSHOT_SIGN_KEY is empty/,
    );
  });

  it('error messages quoting what the user or a snapshot gave carry no escape sequence', async () => {
    const err = await refusal(['describe', 'x\u001b[2Jy']);
    expect(err).toMatch(/invalid snapshot name "xy"/);
    expect(err).not.toContain('\u001b');
  });
});
