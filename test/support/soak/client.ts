import { Agent, request, type IncomingHttpHeaders } from 'node:http';

/** One request a soak sends. */
export interface SoakRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** What came back: `status` 0 and an `error` when no response arrived. */
export interface SoakResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  error?: string;
  /**
   * The first attempt died before any response byte (on a reused keep-alive socket, or for a GET
   * or HEAD on any connection), and was sent again on a fresh one, as browsers do.
   */
  resent?: boolean;
  /** `performance.now()` when the request was sent and when its response ended. */
  startedAt: number;
  finishedAt: number;
}

/** A keep-alive HTTP client for soak traffic, with at most `concurrency` open sockets. */
export interface SoakClient {
  send(soakRequest: SoakRequest): Promise<SoakResponse>;
  close(): void;
}

/**
 * A bounded client: at most `concurrency` sockets, and every request gives up after
 * `timeoutMs` (answered with status 0), so a soak always ends.
 *
 * @example
 * const client = soakClient('http://127.0.0.1:8787', { concurrency: 32 });
 * const response = await client.send({ path: '/', headers: { cookie: 'rollout_id=abcdefgh' } });
 */
export function soakClient(
  baseUrl: string,
  { concurrency, timeoutMs = 15_000 }: { concurrency: number; timeoutMs?: number },
): SoakClient {
  const base = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  async function send(soakRequest: SoakRequest): Promise<SoakResponse> {
    const first = await attempt(soakRequest, performance.now());
    if (!first.staleSocket) return first.response;
    return { ...(await attempt(soakRequest, first.response.startedAt)).response, resent: true };
  }
  function attempt(
    { method = 'GET', path, headers = {}, body }: SoakRequest,
    startedAt: number,
  ): Promise<{ response: SoakResponse; staleSocket: boolean }> {
    return new Promise((resolve) => {
      let responded = false;
      const failed = (error: unknown) =>
        resolve({
          response: {
            status: 0,
            headers: {},
            body: '',
            error: String((error as Error)?.message ?? error),
            startedAt,
            finishedAt: performance.now(),
          },
          // The server had closed this pooled connection just as it was reused, so the request
          // never reached it. workerd does that without `Connection: close` after some failed
          // uploads (a POST whose canary connection died), which no browser ever notices. A GET or
          // HEAD whose connection dropped before any response byte is sent again too, as browsers
          // do for idempotent requests; the suites count and print every resend.
          staleSocket: !responded && (outgoing.reusedSocket || method === 'GET' || method === 'HEAD'),
        });
      const outgoing = request(
        { host: base.hostname, port: base.port, method, path, agent, headers, timeout: timeoutMs },
        (res) => {
          responded = true;
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', failed);
          res.on('end', () =>
            resolve({
              response: {
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks).toString('utf8'),
                startedAt,
                finishedAt: performance.now(),
              },
              staleSocket: false,
            }),
          );
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error(`no response within ${timeoutMs} ms`)));
      outgoing.on('error', failed);
      outgoing.end(body);
    });
  }
  return { send, close: () => agent.destroy() };
}

/**
 * Runs `lanes` async loops side by side and waits for all of them: the concurrency of a soak.
 *
 * @example
 * await inLanes(32, async (lane) => { ... });
 */
export async function inLanes(lanes: number, lane: (index: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: lanes }, (_, index) => lane(index)));
}
