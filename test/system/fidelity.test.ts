import { setCookies } from '../support/core-fixtures';
import { localWorkerBehindEchoOrigins } from '../support/local-worker/wrangler-dev-behind-echo-origins';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { EchoBody } from '../support/loopback/echo-origin';
import { residentMiB, workerdPids } from '../support/local-worker/workerd-memory';

const MiB = 1024 * 1024;

describe('fidelity through the real Worker (wrangler dev, loopback origins)', () => {
  const world = localWorkerBehindEchoOrigins({
    ADMIN_TOKEN: 'fidelity-token-0123456789abcdefghijklmnop',
  });

  it('streams a 150 MiB upload to the origin without buffering it', async () => {
    const pids = workerdPids(world.worker.pid);
    const before = residentMiB(pids);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, residentMiB(pids))), 20);
    // Large enough that buffering it could not hide in the runtime's own churn: pumping the body
    // through the proxy's stream (which tells the visitor's part of an upload from the origin's)
    // leaves 30–46 MiB of transient garbage whatever the size (measured at 50 and 150 MiB, quiet
    // and loaded), while buffering would hold all 150.
    const total = 150 * MiB;
    const chunk = Buffer.alloc(256 * 1024, 7);
    const started = Date.now();
    const echo = await new Promise<EchoBody>((resolve, reject) => {
      const req = request(
        `${world.worker.url}/upload`,
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
      `fidelity: ${total / MiB} MiB upload in ${Date.now() - started} ms, ${pids.length} workerd processes, RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} MiB (+${growth.toFixed(1)} MiB)`,
    );
    expect(echo.bodyBytes).toBe(total);
    // Buffering the body would grow the runtime by at least its size.
    expect(growth).toBeLessThan(total / MiB / 2);
  });

  it('delivers every Set-Cookie separately, and redirects to the browser unfollowed', async () => {
    const cookies = await fetch(`${world.worker.url}/cookies`);
    expect(setCookies(cookies.headers)).toEqual([
      'a=1; Path=/',
      'b=2; Path=/; HttpOnly',
      expect.stringMatching(
        /^rollout_id=[A-Za-z0-9_-]{22}; Path=\/; Max-Age=2592000; HttpOnly; Secure; SameSite=Lax$/,
      ),
    ]);
    const redirect = await fetch(`${world.worker.url}/redirect`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe(`${world.worker.url}/landing?from=stable`);
  });

  it('answers HEAD with headers and no body', async () => {
    const { status, bytes } = await new Promise<{ status: number; bytes: number }>((resolve, reject) => {
      const req = request(`${world.worker.url}/`, { method: 'HEAD' }, (res) => {
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
