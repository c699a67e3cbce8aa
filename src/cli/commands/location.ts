// `location add|list|remove`: the named storage locations of the config file.
import { readFile } from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import { UserError } from '../../core/errors.js';
import { validateLocationName } from '../../storage/config.js';
import { parseLocationUrl } from '../../storage/location-url.js';
import { adapt, type Command, type Wiring } from '../command.js';
import type { GlobalArgs } from '../context.js';
import { keyFileFlag } from '../flags.js';
import { formatData, type OutputFormat, parseOutput, table } from '../output.js';

interface AddArgs {
  name: string;
  url: string;
  default?: boolean;
  overwrite?: boolean;
  'require-encryption'?: boolean;
  'verify-key'?: string;
}

export interface AddOptions {
  name: string;
  url: string;
  default: boolean;
  overwrite: boolean;
  requireEncryption: boolean;
  /** --verify-key: the public key file, read (and its PEM stored) when the command runs. */
  verifyKeyFile?: string;
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
      })
      .option('verify-key', {
        type: 'string',
        describe:
          'Require signatures: restore, diff and verify refuse snapshots not signed by this Ed25519 public key (PEM; kept in the config), and backups here need --sign-key',
      }) as Argv<AddArgs>,
  options: (a, env) => {
    validateLocationName(String(a.name));
    parseLocationUrl(String(a.url), env);
    const verifyKeyFile = keyFileFlag(a['verify-key'], '--verify-key', 'sign.pub.pem');
    return {
      name: String(a.name),
      url: String(a.url),
      default: a.default === true,
      overwrite: a.overwrite === true,
      requireEncryption: a['require-encryption'] === true,
      ...(verifyKeyFile !== undefined ? { verifyKeyFile } : {}),
    };
  },
  run: async ({ io }, o) => {
    const { addLocation } = await import('../../storage/config.js');
    let verifyKey: string | undefined;
    if (o.verifyKeyFile !== undefined) {
      const { parseVerifyKey } = await import('../../crypto/sign.js');
      verifyKey = await readFile(o.verifyKeyFile, 'utf8').catch((err: Error) => {
        throw new UserError(`cannot read verify key file ${o.verifyKeyFile}: ${err.message}`);
      });
      parseVerifyKey(verifyKey, `the verify key file ${o.verifyKeyFile}`);
    }
    await addLocation(
      o.name,
      o.url,
      {
        default: o.default,
        overwrite: o.overwrite,
        requireEncryption: o.requireEncryption,
        ...(verifyKey !== undefined ? { verifyKey } : {}),
      },
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
    const { parseVerifyKey } = await import('../../crypto/sign.js');
    const signer = (pem: string | undefined, name: string) => {
      if (pem === undefined) return undefined;
      try {
        return parseVerifyKey(pem, name).fingerprint;
      } catch {
        return 'invalid key';
      }
    };
    const all = (await listLocations(io.env)).map(({ verifyKey, ...l }) => {
      const s = signer(verifyKey, l.name);
      return { ...l, ...(s !== undefined ? { signedBy: s } : {}) };
    });
    if (o.output !== 'table') io.stdout.write(await formatData(all, o.output));
    else
      io.stdout.write(
        table(
          ['NAME', 'URL', 'DEFAULT', 'ENCRYPTION', 'SIGNATURES'],
          all.map((l) => [
            l.name,
            l.url,
            l.default ? 'yes' : '',
            l.requireEncryption ? 'required' : '',
            l.signedBy ? `required (${l.signedBy})` : '',
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
