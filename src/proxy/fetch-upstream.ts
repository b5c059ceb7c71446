import type { Clock } from '../ports/clock';

/** A response from the origin, or why none came. */
export type UpstreamResult =
  | { kind: 'response'; response: Response; ms: number }
  | { kind: 'failure'; error: string; timedOut: boolean; ms: number };

/** The `fetch` function the proxy uses (the runtime's, or a test's). */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/**
 * Sends one request upstream with a deadline on the response headers. The timer is cleared once
 * headers arrive, so a slow but healthy body (a large download) is never cut off.
 *
 * @example
 * const result = await fetchUpstream(fetch, target, { method: 'GET', headers }, 10_000, systemClock);
 */
export async function fetchUpstream(
  fetchFn: FetchFunction,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  clock: Clock,
): Promise<UpstreamResult> {
  const started = clock.now();
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`no response headers within ${timeoutMs} ms`));
  }, timeoutMs);
  try {
    const response = await fetchFn(url, { ...init, signal: controller.signal, redirect: 'manual' });
    return { kind: 'response', response, ms: clock.now() - started };
  } catch (error) {
    const message = timedOut ? `timeout after ${timeoutMs} ms` : String((error as Error)?.message ?? error);
    return { kind: 'failure', error: message, timedOut, ms: clock.now() - started };
  } finally {
    clearTimeout(timer);
  }
}
