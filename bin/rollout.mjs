#!/usr/bin/env node
// `npx rollout`: loads the TypeScript CLI (cli/) through tsx, so it runs without a build step.
// This is the process edge: everything in cli/ takes its I/O as arguments.
import { register } from 'tsx/esm/api';

register();
// `npx rollout status | head -3`: the reader may close the pipe before everything is written.
// That is the reader's choice, not a failure of the command: stop quietly, with its exit code.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}
const { runCli } = await import('../cli/run-cli.ts');
// A person at a terminal is asked before a write that moves visitors; scripts are not.
const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
async function ask(question) {
  const { createInterface } = await import('node:readline/promises');
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await terminal.question(question);
  } finally {
    terminal.close();
  }
}
process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  interactive,
  ask,
});
