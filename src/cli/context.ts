// What every command shares: the global flags' values, the process's streams and environment.

export interface GlobalArgs {
  kubeconfig?: string;
  context?: string;
  namespace?: string[];
  output?: string;
  storage?: string;
  /** Milliseconds, parsed by flags.ts parseRequestTimeout; 0: no limit. */
  'request-timeout'?: number;
  verbose?: number;
  progress?: boolean;
}

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}
