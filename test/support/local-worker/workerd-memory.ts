import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

function children(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

/**
 * The workerd processes below a `wrangler dev` process: wrangler runs the Worker and its own
 * dev proxy in separate workerd processes, and a request passes through both.
 */
export function workerdPids(rootPid: number): number[] {
  const found: number[] = [];
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.shift()!;
    for (const child of children(pid)) {
      queue.push(child);
      if (readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'workerd') found.push(child);
    }
  }
  if (found.length === 0) throw new Error(`no workerd below pid ${rootPid}`);
  return found;
}

/** Total resident memory of some processes in MiB, from /proc. */
export function residentMiB(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match) kb += Number(match[1]);
  }
  return kb / 1024;
}
