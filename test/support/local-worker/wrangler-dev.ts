import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The whole stack (`npm run dev`: the edge and the control Worker in one multi-config
 * `wrangler dev`) serving on loopback, for Node-side system tests.
 */
export interface LocalWorker {
  url: string;
  port: number;
  /** The folder holding the local KV state (`--persist-to`). */
  persistDir: string;
  /** The pid of the `npm run dev` process (wrangler and its workerd processes are descendants). */
  pid: number;
  /** Everything wrangler printed so far. */
  output(): string;
  /**
   * Runs the control Worker's guard once, as the Cron Trigger would (`POST /__rollout/guard/run`
   * with the ADMIN_TOKEN var), and waits for it to finish; the run's time is the moment of the
   * call. Throws unless the guard ran.
   */
  runScheduled(): Promise<void>;
  /**
   * Makes the control Worker look down to the edge (true) or brings it back (false). Needs a
   * stack started with `controlFault`.
   */
  setControlDown(down: boolean): void;
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
  /** Put a switchable fault between the edge and the control Worker (`setControlDown`). */
  controlFault?: boolean;
}

/**
 * Starts `npm run dev` with the given vars (exactly the documented local-run command) and waits
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
  const fault = options.controlFault ? await startFaultSwitch() : undefined;
  const args = [
    'run',
    'dev',
    '--',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspector),
  ];
  args.push('--persist-to', persistDir, '--show-interactive-dev-session=false', '--log-level', 'warn');
  if (fault) args.push('--var', `CONTROL_FAULT_URL:${fault.url}`);
  for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`);
  const child: ChildProcess = spawn('npm', args, {
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
    await fault?.close();
    if (!options.persistDir) rmSync(persistDir, { recursive: true, force: true });
  };
  const runScheduled = async () => {
    const response = await fetch(`${url}/__rollout/guard/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${vars.ADMIN_TOKEN ?? ''}` },
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (response.status !== 200 || !text.includes('"ran":true'))
      throw new Error(`the guard did not run (${response.status} ${text}):\n${log}`);
  };
  const setControlDown = (down: boolean) => {
    if (!fault) throw new Error('setControlDown needs startLocalWorker(..., { controlFault: true })');
    fault.down = down;
  };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      await fault?.close();
      if (!options.persistDir) rmSync(persistDir, { recursive: true, force: true });
      throw new Error(`npm run dev exited (${child.exitCode}):\n${log}`);
    }
    try {
      await fetch(`${url}/__rollout/health`, { signal: AbortSignal.timeout(1000) });
      return {
        url,
        port,
        pid: child.pid!,
        persistDir,
        output: () => log,
        runScheduled,
        setControlDown,
        stop,
      };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  await stop();
  throw new Error(`npm run dev did not answer within ${options.timeoutMs ?? 60_000} ms:\n${log}`);
}

/** A loopback switch the edge asks (`CONTROL_FAULT_URL`) whether the control Worker is "down". */
async function startFaultSwitch(): Promise<{ url: string; down: boolean; close(): Promise<void> }> {
  const state = {
    down: false,
    url: '',
    close: async () => {},
  };
  const server = createHttpServer((_request, response) => response.end(state.down ? 'down' : 'up'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  state.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
