/** An admin API answer: status and parsed JSON (or the raw text when it is not JSON). */
export interface AdminAnswer {
  status: number;
  json: unknown;
  text: string;
}

/** Calls the admin API of a Worker under test with its bearer token. */
export interface AdminClient {
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<AdminAnswer>;
}

/**
 * An admin client for system tests. `path` is relative to the admin prefix; an object body is
 * sent as JSON. Bounded: each call gives up after 10 s.
 *
 * @example
 * const admin = adminClient(worker.url, 'token-0123456789');
 * await admin.call('PUT', '/percent', { percent: 10 });
 */
export function adminClient(baseUrl: string, token: string, prefix = '/__rollout'): AdminClient {
  return {
    async call(method, path, body, headers = {}) {
      const response = await fetch(`${baseUrl}${prefix}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, json, text };
    },
  };
}
