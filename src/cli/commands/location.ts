// `location add|list|remove`: the named storage locations of the config file.
import type { Argv, CommandModule } from 'yargs';
import { validateLocationName } from '../../storage/config.js';
import { parseLocationUrl } from '../../storage/location-url.js';
import { adapt, type Command, type Wiring } from '../command.js';
import type { GlobalArgs } from '../context.js';
import { formatData, type OutputFormat, parseOutput, table } from '../output.js';

interface AddArgs {
  name: string;
  url: string;
  default?: boolean;
  overwrite?: boolean;
  'require-encryption'?: boolean;
}

export interface AddOptions {
  name: string;
  url: string;
  default: boolean;
  overwrite: boolean;
  requireEncryption: boolean;
}

export const addCommand: Command<AddArgs, AddOptions> = {
  command: 'add <name> <url>',
  describe: 'Add a named location (file:///dir or s3://bucket/prefix?endpoint=…&region=…)',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true })
      .positional('url', { type: 'string', demandOption: true })
      .option('default', {
        type: 'boolean',
        describe: 'Use it when --storage is not given',
      })
      .option('overwrite', {
        type: 'boolean',
        describe: 'Replace a location with the same name',
      })
      .option('require-encryption', {
        type: 'boolean',
        describe: 'Refuse unencrypted backups to this location',
      }) as Argv<AddArgs>,
  options: (a, env) => {
    validateLocationName(String(a.name));
    parseLocationUrl(String(a.url), env);
    return {
      name: String(a.name),
      url: String(a.url),
      default: a.default === true,
      overwrite: a.overwrite === true,
      requireEncryption: a['require-encryption'] === true,
    };
  },
  run: async ({ io }, o) => {
    const { addLocation } = await import('../../storage/config.js');
    await addLocation(
      o.name,
      o.url,
      { default: o.default, overwrite: o.overwrite, requireEncryption: o.requireEncryption },
      io.env,
    );
    io.stdout.write(`location ${o.name} added\n`);
  },
};

export const listCommand: Command<object, { output: OutputFormat }> = {
  command: 'list',
  describe: 'List named locations',
  options: (a) => ({ output: parseOutput(a.output) }),
  run: async ({ io }, o) => {
    const { listLocations } = await import('../../storage/config.js');
    const all = await listLocations(io.env);
    if (o.output !== 'table') io.stdout.write(await formatData(all, o.output));
    else
      io.stdout.write(
        table(
          ['NAME', 'URL', 'DEFAULT', 'ENCRYPTION'],
          all.map((l) => [
            l.name,
            l.url,
            l.default ? 'yes' : '',
            l.requireEncryption ? 'required' : '',
          ]),
        ),
      );
  },
};

export const removeCommand: Command<{ name: string }, { name: string }> = {
  command: 'remove <name>',
  aliases: ['rm'],
  describe: 'Remove a named location (its snapshots stay where they are)',
  builder: (y) =>
    y.positional('name', { type: 'string', demandOption: true }) as Argv<{ name: string }>,
  options: (a) => ({ name: String(a.name) }),
  run: async ({ io }, o) => {
    const { removeLocation } = await import('../../storage/config.js');
    await removeLocation(o.name, io.env);
    io.stdout.write(`location ${o.name} removed\n`);
  },
};

export function locationCommand(w: Wiring): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'location <command>',
    describe: 'Manage named storage locations',
    builder: (y) =>
      y
        .command(adapt(addCommand, w, 'location add'))
        .command(adapt(listCommand, w, 'location list'))
        .command(adapt(removeCommand, w, 'location remove'))
        .demandCommand(1, 'name a subcommand: add, list or remove') as Argv<GlobalArgs>,
    handler: () => {},
  };
}
