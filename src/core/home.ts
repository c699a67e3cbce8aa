import { homedir } from 'node:os';

/**
 * The user's home directory: $HOME, else the OS account's. An empty HOME counts as unset, so
 * `~` never expands to the current directory.
 */
export function homeDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HOME || homedir();
}
