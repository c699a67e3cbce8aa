import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { parseIni, s3CredentialsFromEnv } from '../../src/storage/s3-credentials.js';

let dir: string;
let credsFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'creds-'));
  credsFile = join(dir, 'credentials');
  await writeFile(
    credsFile,
    [
      '# comment',
      '[default]',
      'aws_access_key_id = DEFAULTKEY',
      'aws_secret_access_key = default/secret+x=',
      '',
      '; another comment',
      '[backup]',
      'AWS_ACCESS_KEY_ID=BACKUPKEY',
      'aws_secret_access_key=backupsecret',
      'aws_session_token = backuptoken',
      '[half]',
      'aws_access_key_id = ONLYKEY',
    ].join('\n'),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('s3CredentialsFromEnv', () => {
  it('reads the access key and secret from the AWS environment variables', () => {
    expect(
      s3CredentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' }, () => {
        throw new Error('must not read a file');
      }),
    ).toEqual({ accessKey: 'AK', secretKey: 'SK' });
  });

  it('includes AWS_SESSION_TOKEN for temporary credentials', () => {
    expect(
      s3CredentialsFromEnv({
        AWS_ACCESS_KEY_ID: 'AK',
        AWS_SECRET_ACCESS_KEY: 'SK',
        AWS_SESSION_TOKEN: 'TOK',
      }),
    ).toEqual({ accessKey: 'AK', secretKey: 'SK', sessionToken: 'TOK' });
  });

  it('prefers the environment over the credentials file', () => {
    expect(
      s3CredentialsFromEnv({
        AWS_ACCESS_KEY_ID: 'AK',
        AWS_SECRET_ACCESS_KEY: 'SK',
        AWS_SHARED_CREDENTIALS_FILE: credsFile,
      }),
    ).toEqual({ accessKey: 'AK', secretKey: 'SK' });
  });

  it('reads the default profile of the file named by AWS_SHARED_CREDENTIALS_FILE', () => {
    expect(s3CredentialsFromEnv({ AWS_SHARED_CREDENTIALS_FILE: credsFile })).toEqual({
      accessKey: 'DEFAULTKEY',
      secretKey: 'default/secret+x=',
    });
  });

  it('reads the profile named by AWS_PROFILE, with its session token', () => {
    expect(
      s3CredentialsFromEnv({ AWS_SHARED_CREDENTIALS_FILE: credsFile, AWS_PROFILE: 'backup' }),
    ).toEqual({ accessKey: 'BACKUPKEY', secretKey: 'backupsecret', sessionToken: 'backuptoken' });
  });

  it('looks for ~/.aws/credentials under HOME by default', () => {
    const seen: string[] = [];
    const creds = s3CredentialsFromEnv({ HOME: '/home/u' }, (p) => {
      seen.push(p);
      return '[default]\naws_access_key_id=A\naws_secret_access_key=S\n';
    });
    expect(seen).toEqual(['/home/u/.aws/credentials']);
    expect(creds).toEqual({ accessKey: 'A', secretKey: 'S' });
  });

  it('explains which variables to set when there are no credentials anywhere', () => {
    let err: unknown;
    try {
      s3CredentialsFromEnv({ HOME: dir, AWS_SHARED_CREDENTIALS_FILE: join(dir, 'missing') });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    const { message, hint } = err as UserError;
    expect(message).toMatch(/no S3 credentials found/);
    expect(hint).toContain('AWS_ACCESS_KEY_ID');
    expect(hint).toContain('AWS_SECRET_ACCESS_KEY');
    expect(hint).toContain(join(dir, 'missing'));
    expect(hint).toMatch(/never accepted on the command line/);
  });

  it('names the missing half when only one of the two variables is set', () => {
    expect(() => s3CredentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AK' })).toThrow(
      /AWS_SECRET_ACCESS_KEY is not set/,
    );
    expect(() => s3CredentialsFromEnv({ AWS_SECRET_ACCESS_KEY: 'SK' })).toThrow(
      /AWS_ACCESS_KEY_ID is not set/,
    );
  });

  it('never echoes a secret in its errors', () => {
    try {
      s3CredentialsFromEnv({ AWS_SECRET_ACCESS_KEY: 'TopSecret123' });
    } catch (e) {
      expect(`${(e as UserError).message} ${(e as UserError).hint}`).not.toContain('TopSecret123');
    }
  });

  it('reports a missing profile and an incomplete profile as UserErrors', () => {
    expect(() =>
      s3CredentialsFromEnv({ AWS_SHARED_CREDENTIALS_FILE: credsFile, AWS_PROFILE: 'nope' }),
    ).toThrow(/no profile "nope"/);
    expect(() =>
      s3CredentialsFromEnv({ AWS_SHARED_CREDENTIALS_FILE: credsFile, AWS_PROFILE: 'half' }),
    ).toThrow(/lacks aws_secret_access_key/);
  });
});

describe('parseIni', () => {
  it('parses sections, keys case-insensitively, "profile x" headers, and skips comments', () => {
    expect(parseIni('[profile p]\nKey = v = w\n# c\n[q]\nx=1\n')).toEqual({
      p: { key: 'v = w' },
      q: { x: '1' },
    });
  });
});
