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
  /**
   * Runs the Worker's `scheduled` handler once, as the Cron Trigger would, and waits for it to
   * finish; the trigger's `scheduledTime` is the moment of the call. Needs a Worker started with
   * `testScheduled`. Throws unless the handler ran.
   */
  runScheduled(cron?: string): Promise<void>;
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

/** Options of {@link startLocalWorker}. */
export interface LocalWorkerOptions {
  /** Bound on the start-up, in ms (default 60 000). */
  timeoutMs?: number;
  /** Keep the local state here (and leave it behind) instead of in a fresh temporary folder. */
  persistDir?: string;
  /**
   * Start with `--test-scheduled`, so that {@link LocalWorker.runScheduled} can fire the Cron
   * Trigger handler. (Miniflare's `/cdn-cgi/handler/scheduled`, which could also set the
   * scheduled time, fails for a Worker with static assets: the assets proxy cannot pass the
   * controller on.)
   */
  testScheduled?: boolean;
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
  options: LocalWorkerOptions = {},
): Promise<LocalWorker> {
  // A free port can be taken by another process between the check and wrangler's bind (the
  // suites start many servers): that start is retried on new ports, any other failure is not.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(vars, options);
    } catch (error) {
      if (attempt >= 3 || !/address already in use/i.test(String(error))) throw error;
    }
  }
}

async function startOnce(vars: Record<string, string>, options: LocalWorkerOptions): Promise<LocalWorker> {
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
  if (options.testScheduled) args.push('--test-scheduled');
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
  const runScheduled = async (cron = '* * * * *') => {
    const response = await fetch(`${url}/__scheduled?${new URLSearchParams({ cron })}`, {
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    // Without --test-scheduled the path reaches the Worker, which proxies it to an origin.
    if (response.status !== 200 || text !== 'Ran scheduled event')
      throw new Error(`the scheduled handler did not run (${response.status} ${text}):\n${log}`);
  };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      if (!options.persistDir) rmSync(persistDir, { recursive: true, force: true });
      throw new Error(`wrangler dev exited (${child.exitCode}):\n${log}`);
    }
    try {
      await fetch(`${url}/__rollout/health`, { signal: AbortSignal.timeout(1000) });
      return { url, port, pid: child.pid!, persistDir, output: () => log, runScheduled, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  await stop();
  throw new Error(`wrangler dev did not answer within ${options.timeoutMs ?? 60_000} ms:\n${log}`);
}
