// Process boundary: arguments in, exit code out.
import { main } from './cli/index.js';

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
