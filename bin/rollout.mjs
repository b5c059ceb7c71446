#!/usr/bin/env node
// `npx rollout`: loads the TypeScript CLI (cli/) through tsx, so it runs without a build step.
// This is the process edge: everything in cli/ takes its I/O as arguments.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../cli/run-cli.ts');
process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
