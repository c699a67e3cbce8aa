import type { Argv, CommandModule } from 'yargs';
import type { GlobalArgs, Guard, Io } from '../context.js';
import { formatData, parseOutput, table } from '../output.js';

interface AddArgs extends GlobalArgs {
  name: string;
  url: string;
  default?: boolean;
  overwrite?: boolean;
  'require-encryption'?: boolean;
}

export function locationCommand(io: Io, g: Guard): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'location <command>',
    describe: 'Manage named storage locations',
    builder: (y) =>
      y
        .command(
          g({
            command: 'add <name> <url>',
            describe:
              'Add a named location (file:///dir or s3://bucket/prefix?endpoint=…&region=…)',
            builder: (yy) =>
              yy
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
            handler: async (raw) => {
              const a = raw as unknown as AddArgs;
              const { addLocation } = await import('../../storage/config.js');
              await addLocation(
                a.name,
                a.url,
                {
                  default: a.default === true,
                  overwrite: a.overwrite === true,
                  requireEncryption: a['require-encryption'] === true,
                },
                io.env,
              );
              io.stdout.write(`location ${a.name} added\n`);
            },
          }),
        )
        .command(
          g({
            command: 'list',
            describe: 'List named locations',
            handler: async (raw) => {
              const a = raw as unknown as GlobalArgs;
              const format = parseOutput(a.output);
              const { listLocations } = await import('../../storage/config.js');
              const all = await listLocations(io.env);
              if (format !== 'table') io.stdout.write(await formatData(all, format));
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
          }),
        )
        .command(
          g({
            command: 'remove <name>',
            aliases: ['rm'],
            describe: 'Remove a named location (its snapshots stay where they are)',
            builder: (yy) =>
              yy.positional('name', { type: 'string', demandOption: true }) as Argv<AddArgs>,
            handler: async (raw) => {
              const a = raw as unknown as AddArgs;
              const { removeLocation } = await import('../../storage/config.js');
              await removeLocation(a.name, io.env);
              io.stdout.write(`location ${a.name} removed\n`);
            },
          }),
        )
        .demandCommand(1, 'name a subcommand: add, list or remove') as Argv<GlobalArgs>,
    handler: () => {},
  };
}
