import { describe, expect, it } from 'vitest';
import type { EchoBody } from '../support/loopback/echo-origin';
import { configAt, putConfig, testApp } from '../support/in-workerd/test-app';

// Uploads through the proxy (issue 21, H1 and M1): the response deadline starts only when the
// visitor's body has been fully read, the body keeps its Content-Length on the way to the origin,
// and a body the visitor breaks is the visitor's failure (400, outcome `client`), never the cohort's.

const KB = 1024;
const UPLOAD_ROUTE = { name: 'file_upload', method: 'POST', pattern: '/api/files' };

/** An app at 100 % canary with a 2 s deadline and the file_upload business route. */
async function uploadApp() {
  const app = testApp();
  await putConfig(
    app.kv,
    configAt(100, { failover: { statuses: [502, 503, 504], timeoutMs: 2000 }, routes: [UPLOAD_ROUTE] }),
  );
  return app;
}

/** A body of `total` bytes sent `chunk` bytes at a time, one chunk every `everyMs`. */
function pacedBody(total: number, chunk: number, everyMs: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent > 0) await new Promise((resolve) => setTimeout(resolve, everyMs));
      const size = Math.min(chunk, total - sent);
      controller.enqueue(new Uint8Array(size).fill(0x61));
      sent += size;
      if (sent >= total) controller.close();
    },
  });
}

/**
 * A hostile socket's body: it declares `Content-Length: 100000`, sends 1 KB and then the
 * connection is gone (`errors`) or the body just stops (a short body).
 */
function brokenBody(end: 'errors' | 'stops'): ReadableStream<Uint8Array> {
  let step = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (step++ === 0) return controller.enqueue(new Uint8Array(KB));
      if (end === 'errors') controller.error(new Error('client disconnected'));
      else controller.close();
    },
  });
}

function post(body: ReadableStream<Uint8Array>, length: number): RequestInit {
  return {
    method: 'POST',
    body,
    headers: { 'content-length': String(length), 'content-type': 'application/octet-stream' },
  };
}

describe('uploads through the proxy', () => {
  it(
    'lets a 300 KB upload at 25 KB/s through a 2 s deadline, with its Content-Length kept',
    { timeout: 30_000 },
    async () => {
      const { request, metrics } = await uploadApp();
      const started = Date.now();
      // 12 chunks of 25 KB, one per second: about 11 s of upload against a 2 s deadline.
      const response = await request('/api/files', post(pacedBody(300_000, 25_000, 1000), 300_000));
      const elapsed = Date.now() - started;
      expect(response.status).toBe(200);
      const echo = (await response.json()) as EchoBody;
      expect(echo).toMatchObject({ origin: 'canary', method: 'POST', bodyBytes: 300_000 });
      expect(echo.headers['content-length']).toBe('300000');
      expect(echo.headers['transfer-encoding']).toBeUndefined();
      expect(elapsed).toBeGreaterThanOrEqual(10_000);
      expect(metrics.metrics.at(-1)).toMatchObject({
        outcome: 'ok',
        route: 'file_upload',
        routeSuccess: true,
      });
    },
  );

  it('answers 504 when the origin took the whole body and never answered, 2 s after the body ended', async () => {
    const { request, metrics } = await uploadApp();
    const started = Date.now();
    // 100 KB over about 1.5 s, then the origin (/hang) reads it and says nothing.
    const response = await request('/hang', post(pacedBody(100 * KB, 25 * KB, 500), 100 * KB));
    const elapsed = Date.now() - started;
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({ error: 'upstream timeout', cohort: 'canary' });
    // The deadline ran from the end of the body (≈ 1.5 s), not from the start of the request.
    expect(elapsed).toBeGreaterThanOrEqual(1500 + 2000);
    expect(elapsed).toBeLessThan(1500 + 2000 + 3000);
    expect(metrics.metrics.at(-1)).toMatchObject({ outcome: 'error', status: 504 });
  });

  it.each(['errors', 'stops'] as const)(
    'answers 400 and records outcome client when the visitor’s body %s after 1 KB of a declared 100 000',
    async (end) => {
      const { request, metrics } = await uploadApp();
      const response = await request('/api/files', post(brokenBody(end), 100_000));
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'request body incomplete', cohort: 'canary' });
      expect(metrics.metrics).toHaveLength(1);
      const [metric] = metrics.metrics;
      expect(metric).toMatchObject({
        assignedCohort: 'canary',
        route: 'file_upload',
        outcome: 'client',
        status: 400,
      });
      // Not a business failure of the upload route either: the route result stays unjudged.
      expect(metric!.routeSuccess).toBeUndefined();
    },
  );
});
