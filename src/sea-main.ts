// Entry point of the single executable (npm run package): Node's SEA runs its main script as
// CommonJS, where top-level await is not allowed, so this is src/main.ts without it.
import { main } from './cli/index.js';

main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
}).then(
  (code) => {
    // Stopped by a signal: requests still in flight must not keep the process alive.
    if (code >= 128) process.exit(code);
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
