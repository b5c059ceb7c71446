import { setCookies } from '../../src/headers/set-cookies';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEchoOrigin, type EchoBody } from '../support/echo-origin';
import { startLocalWorker, type LocalWorker } from '../support/local-worker';
import { residentMiB, workerdPids } from '../support/workerd-memory';

const MiB = 1024 * 1024;

describe('fidelity through the real Worker (wrangler dev, loopback origins)', () => {
  let worker: LocalWorker;
  let origins: Awaited<ReturnType<typeof startEchoOrigin>>[] = [];

  beforeAll(async () => {
    origins = [await startEchoOrigin('stable'), await startEchoOrigin('canary')];
    worker = await startLocalWorker({
      STABLE_ORIGIN: `http://127.0.0.1:${origins[0]!.port}`,
      CANARY_ORIGIN: `http://127.0.0.1:${origins[1]!.port}`,
      ADMIN_TOKEN: 'fidelity-token-0123456789',
    });
  }, 90_000);

  afterAll(async () => {
    await worker?.stop();
    await Promise.all(origins.map((o) => o.close()));
  });

  it('streams a 50 MB upload to the origin without buffering it', async () => {
    const pids = workerdPids(worker.pid);
    const before = residentMiB(pids);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, residentMiB(pids))), 20);
    const total = 50 * MiB;
    const chunk = Buffer.alloc(256 * 1024, 7);
    const started = Date.now();
    const echo = await new Promise<EchoBody>((resolve, reject) => {
      const req = request(
        `${worker.url}/upload`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(total) },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve(JSON.parse(text) as EchoBody));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    clearInterval(sampler);
    const growth = peak - before;
    console.log(
      `fidelity: 50 MiB upload in ${Date.now() - started} ms, ${pids.length} workerd processes, RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} MiB (+${growth.toFixed(1)} MiB)`,
    );
    expect(echo.bodyBytes).toBe(total);
    // Buffering the body would grow the runtime by at least its size.
    expect(growth).toBeLessThan(25);
  });

  it('delivers every Set-Cookie separately, and redirects to the browser unfollowed', async () => {
    const cookies = await fetch(`${worker.url}/cookies`);
    expect(setCookies(cookies.headers)).toEqual([
      'a=1; Path=/',
      'b=2; Path=/; HttpOnly',
      expect.stringMatching(
        /^rollout_id=[A-Za-z0-9_-]{22}; Path=\/; Max-Age=2592000; HttpOnly; Secure; SameSite=Lax$/,
      ),
    ]);
    const redirect = await fetch(`${worker.url}/redirect`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe(`${worker.url}/landing?from=stable`);
  });

  it('answers HEAD with headers and no body', async () => {
    const { status, bytes } = await new Promise<{ status: number; bytes: number }>((resolve, reject) => {
      const req = request(`${worker.url}/`, { method: 'HEAD' }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    expect(bytes).toBe(0);
  });
});
