import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * How a fault origin answers: `ok` echoes the request as JSON, `status` answers 503, `reset`
 * drops the connection without answering, `hang` never answers.
 */
export type FaultMode = 'ok' | 'status' | 'reset' | 'hang';

/** What a fault origin echoes in `ok` mode. */
export interface FaultOriginEcho {
  origin: string;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A real HTTP origin on 127.0.0.1 whose behaviour a test switches while traffic flows. */
export interface FaultOrigin {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  setMode(mode: FaultMode): void;
  /** Requests received, by method (every request counts, whatever the mode answered). */
  readonly received: Readonly<Record<string, number>>;
  /** The path of every request with a body method (POST, PUT, PATCH, DELETE) received. */
  readonly bodyRequestPaths: readonly string[];
  /** Stops listening and drops every open connection, like a crashed process. */
  kill(): Promise<void>;
  /** Listens again on the same port, in `ok` mode. */
  revive(): Promise<void>;
  close(): Promise<void>;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Starts a switchable origin. Keep-alive outlasts any pause in a test, so an idle pooled
 * connection is never closed under the Worker by the origin's own timer (that race is not a fault
 * under test).
 *
 * @example
 * const canary = await startFaultOrigin('canary');
 * canary.setMode('reset');
 */
export async function startFaultOrigin(name: string): Promise<FaultOrigin> {
  let mode: FaultMode = 'ok';
  const received: Record<string, number> = {};
  const bodyRequestPaths: string[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? '';
    received[method] = (received[method] ?? 0) + 1;
    const path = new URL(req.url ?? '/', 'http://origin').pathname;
    if (BODY_METHODS.has(method)) bodyRequestPaths.push(path);
    if (mode === 'reset') return void req.socket.destroy();
    if (mode === 'hang') return; // the Worker's timeout must fire; kill() drops the socket
    await drained(req);
    if (mode === 'status') return json(res, 503, { origin: name, error: 'service unavailable' });
    const echo: FaultOriginEcho = { origin: name, method, path, headers: req.headers };
    json(res, 200, echo);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  server.keepAliveTimeout = 60_000;
  await listen(0);
  const port = (server.address() as AddressInfo).port;

  function listen(onPort: number): Promise<void> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(onPort, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  async function kill(): Promise<void> {
    if (!server.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    setMode: (next) => void (mode = next),
    received,
    bodyRequestPaths,
    kill,
    async revive() {
      mode = 'ok';
      await listen(port);
    },
    close: kill,
  };
}

function drained(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    req.once('end', resolve);
    req.once('close', resolve);
    req.resume();
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
