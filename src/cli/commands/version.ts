import { VERSION } from '../../version.js';
import type { Command } from '../command.js';

export interface VersionOptions {
  json: boolean;
}

export const versionCommand: Command<object, VersionOptions> = {
  command: 'version',
  describe: 'Print the version',
  options: (a) => ({ json: a.output === 'json' }),
  run: async ({ io }, o) => {
    const runtime = { node: process.version, platform: `${process.platform}/${process.arch}` };
    io.stdout.write(
      o.json
        ? `${JSON.stringify({ version: `v${VERSION}`, ...runtime })}\n`
        : `kubectl-snapshot v${VERSION} (node ${runtime.node}, ${runtime.platform})\n`,
    );
  },
};
