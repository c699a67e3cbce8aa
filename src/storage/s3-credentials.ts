// S3 credentials: from the environment or the AWS shared credentials file, never from the
// command line. Apart from minio, so resolving them does not load the S3 client.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { homeDir } from '../core/home.js';
import { errorCode } from './s3-errors.js';

export interface S3Credentials {
  accessKey: string;
  secretKey: string;
  sessionToken?: string;
}

/**
 * S3 credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), else from
 * the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile
 * AWS_PROFILE or "default"). Never from the command line. `fileReader` returns a file's text,
 * or undefined when it does not exist.
 */
export function s3CredentialsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  fileReader: (path: string) => string | undefined = readIfExists,
): S3Credentials {
  const accessKey = env.AWS_ACCESS_KEY_ID?.trim();
  const secretKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  const sessionToken = env.AWS_SESSION_TOKEN?.trim() || undefined;
  if (accessKey && secretKey) {
    return sessionToken ? { accessKey, secretKey, sessionToken } : { accessKey, secretKey };
  }
  if (accessKey || secretKey) {
    throw new UserError(
      `${accessKey ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'} is not set (only ${accessKey ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY'} is)`,
      'set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or unset both to use the shared credentials file',
    );
  }

  const file = env.AWS_SHARED_CREDENTIALS_FILE || join(homeDir(env), '.aws', 'credentials');
  const profile = env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || 'default';
  const text = fileReader(file);
  const missingHint =
    'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary credentials) ' +
    `in the environment, or put aws_access_key_id and aws_secret_access_key in the [${profile}] ` +
    `section of ${file} (AWS_SHARED_CREDENTIALS_FILE and AWS_PROFILE choose the file and the profile); ` +
    'credentials are never accepted on the command line';
  if (text === undefined) {
    throw new UserError('no S3 credentials found', missingHint);
  }
  const section = parseIni(text)[profile];
  if (!section) {
    throw new UserError(`no profile "${profile}" in the S3 credentials file ${file}`, missingHint);
  }
  const fileAccess = section.aws_access_key_id;
  const fileSecret = section.aws_secret_access_key;
  if (!fileAccess || !fileSecret) {
    throw new UserError(
      `profile "${profile}" in ${file} lacks ${fileAccess ? 'aws_secret_access_key' : 'aws_access_key_id'}`,
      missingHint,
    );
  }
  const fileToken = section.aws_session_token || undefined;
  return fileToken
    ? { accessKey: fileAccess, secretKey: fileSecret, sessionToken: fileToken }
    : { accessKey: fileAccess, secretKey: fileSecret };
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new UserError(
      `cannot read the S3 credentials file ${path} (${code ?? String(err)})`,
      'check its permissions, or set AWS_SHARED_CREDENTIALS_FILE',
    );
  }
}

/** A minimal INI parser for AWS credential files: `[section]`, `key = value`, # and ; comments. */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      const name = header[1] as string;
      current = out[name] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0 || !current) continue;
    current[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return out;
}
