// Errors by audience. A UserError is something the user can fix: its message says what
// happened and its hint what to do next. Only the CLI layer turns errors into exit codes.

export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** A storage key or snapshot that does not exist. */
export class NotFoundError extends UserError {
  constructor(what: string, hint?: string) {
    super(`${what} not found`, hint);
    this.name = 'NotFoundError';
  }
}

/** A conditional create lost: the key already exists. */
export class AlreadyExistsError extends UserError {
  constructor(what: string, hint?: string) {
    super(`${what} already exists`, hint);
    this.name = 'AlreadyExistsError';
  }
}

/** An archive that is corrupt, truncated, tampered with or unsafe to unpack. */
export class CorruptArchiveError extends UserError {
  constructor(message: string) {
    super(message, 'the archive cannot be trusted; restore from another snapshot');
    this.name = 'CorruptArchiveError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The process exit codes, chosen here and nowhere else. */
export const EXIT = {
  ok: 0,
  /** Usage or fatal error: nothing was changed. */
  error: 1,
  /** Partial failure: the command did its work, but some of it failed (listed in its report). */
  partial: 2,
} as const;

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;
export type StopSignal = keyof typeof SIGNAL_NUMBERS;
export const STOP_SIGNALS = Object.keys(SIGNAL_NUMBERS) as StopSignal[];

/**
 * A run stopped by SIGINT or SIGTERM, after removing what it wrote (the hint says when it
 * could not): exit 128 + the signal's number, as shells report it.
 */
export class Interrupted extends UserError {
  readonly exitCode: number;
  constructor(
    readonly signal: StopSignal,
    hint?: string,
  ) {
    super(`interrupted by ${signal}`, hint);
    this.name = 'Interrupted';
    this.exitCode = 128 + SIGNAL_NUMBERS[signal];
  }
}

/**
 * A command that ran and reported what it did, ending in failure: objects that failed to
 * restore, a damaged snapshot, snapshots a prune could not delete. Carries its exit code.
 */
export class CommandFailed extends Error {
  constructor(
    readonly exitCode: (typeof EXIT)['error' | 'partial'],
    message: string,
  ) {
    super(message);
    this.name = 'CommandFailed';
  }
}
