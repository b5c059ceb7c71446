#!/usr/bin/env node
// Runs one command in a process group of its own and stops the whole group (wrangler and the
// workerd it starts) when the parent goes away. The parent holds this process's stdin: the pipe
// closes whenever the parent exits, SIGKILL included, so nothing is left holding the port.
// SIGTERM, SIGINT and SIGHUP stop it too.
//
//   node scripts/demo/stop-with-parent.mjs [--remove DIR] -- command [args…]
//
// --remove DIR: a directory to delete once the command has stopped (the demo's secrets file).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

const separator = process.argv.indexOf('--');
const options = process.argv.slice(2, separator);
const [command, ...args] = separator === -1 ? [] : process.argv.slice(separator + 1);
const removeDir = options[0] === '--remove' ? options[1] : undefined;
if (!command || options.length !== (removeDir ? 2 : 0)) {
  console.error('usage: stop-with-parent.mjs [--remove DIR] -- command [args…]');
  process.exit(2);
}

/** How long the command may take to stop after SIGTERM before the group is killed. */
const GRACE_MS = 5000;

const child = spawn(command, args, { detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
const signalGroup = (signal) => {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
};

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  signalGroup('SIGTERM');
  setTimeout(() => signalGroup('SIGKILL'), GRACE_MS).unref();
}

child.on('exit', (code, signal) => {
  // Whatever the command started and left behind (workerd after a crash) goes with it.
  signalGroup('SIGKILL');
  if (removeDir) rmSync(removeDir, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
child.on('error', (error) => {
  console.error(`could not start ${command}: ${error.message}`);
  if (removeDir) rmSync(removeDir, { recursive: true, force: true });
  process.exit(1);
});

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
process.stdin.resume();
// A parent that was not holding the pipe (stdin not a pipe) is still watched: a new parent id
// means the old one is gone.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && stop(), 500).unref();
