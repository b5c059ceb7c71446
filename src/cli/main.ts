import { runCli } from './run-cli';

// The process edge of the CLI: everything else takes its I/O as arguments.
process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
