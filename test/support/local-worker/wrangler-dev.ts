import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A `wrangler dev` process serving the Worker on loopback, for Node-side system tests. */
export interface LocalWorker {
  url: string;
  port: number;
  /** The folder holding the local KV state (`--persist-to`). */
  persistDir: string;
  /** The pid of the `npx wrangler dev` process (its workerd processes are descendants). */
  pid: number;
  /** Everything wrangler printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts `wrangler dev` with the given vars (exactly the documented local-run command) and waits
 * until it answers. Bounded: gives up after `timeoutMs`.
 *
 * @example
 * const worker = await startLocalWorker({ STABLE_ORIGIN: 'http://127.0.0.1:8701', ... });
 */
export async function startLocalWorker(
  vars: Record<string, string>,
  options: { timeoutMs?: number; persistDir?: string } = {},
): Promise<LocalWorker> {
  const port = await freePort();
  const inspector = await freePort();
  const persistDir = options.persistDir ?? mkdtempSync(join(tmpdir(), 'edge-rollout-'));
  const args = [
    'wrangler',
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspector),
  ];
  args.push('--persist-to', persistDir, '--show-interactive-dev-session=false', '--log-level', 'warn');
  for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`);
  const child: ChildProcess = spawn('npx', args, {
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  child.stdout?.on('data', (chunk) => (log += chunk));
  child.stderr?.on('data', (chunk) => (log += chunk));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
          resolve(undefined);
        }, 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
    if (!options.persistDir) rmSync(persistDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${log}`);
    try {
      await fetch(`${url}/__rollout/health`, { signal: AbortSignal.timeout(1000) });
      return { url, port, pid: child.pid!, persistDir, output: () => log, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  await stop();
  throw new Error(`wrangler dev did not answer within ${options.timeoutMs ?? 60_000} ms:\n${log}`);
}
