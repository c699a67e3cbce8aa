// Process boundary: arguments in, exit code out.
import { main } from './cli/index.js';

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
// Stopped by a signal: what was written is removed; requests still in flight must not keep
// the process alive.
if (code >= 128) process.exit(code);
process.exitCode = code;
