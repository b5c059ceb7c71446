import { describe, expect, it } from 'vitest';
import { localWorkerBehindEchoOrigins } from '../support/local-worker/wrangler-dev-behind-echo-origins';

const TOKEN = 'control-down-token-0123456789abcdef';
const VISITORS = 200;
const ROUNDS = 6; // 1,200 visitor GETs
const LANES = 8;

describe('the control Worker down during traffic (npm run dev, a switchable fault between the Workers)', () => {
  const world = localWorkerBehindEchoOrigins(
    { ADMIN_TOKEN: TOKEN, CONFIG_CACHE_SECONDS: '1' },
    { controlFault: true },
  );

  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${world.worker.url}/__rollout${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as any };
  };

  it('serves every visitor GET, answers the admin prefix with a clear 503, and loses no write', async () => {
    expect((await admin('PUT', '/percent', { percent: 10 })).status).toBe(200);
    expect((await admin('PUT', '/flags/templates', { enabled: true, percent: 50 })).status).toBe(200);
    const before = await admin('GET', '/state');
    expect(before.status).toBe(200);

    let sent = 0;
    let failed = 0;
    const failures: string[] = [];
    const adminDuringOutage: number[] = [];
    let outageRequests = 0;
    const total = VISITORS * ROUNDS;
    const operator = (async () => {
      while (sent < total / 3) await new Promise((resolve) => setTimeout(resolve, 5));
      world.worker.setControlDown(true);
      const down = await admin('PUT', '/percent', { percent: 50 });
      adminDuringOutage.push(down.status);
      expect(down.json.error).toMatch(/control plane is unreachable/);
      adminDuringOutage.push((await admin('GET', '/state')).status);
      const startedAt = sent;
      while (sent < (2 * total) / 3) await new Promise((resolve) => setTimeout(resolve, 5));
      outageRequests = sent - startedAt;
      world.worker.setControlDown(false);
    })();
    await Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        for (let round = 0; round < ROUNDS; round++)
          for (let v = lane; v < VISITORS; v += LANES) {
            const id = `visitor-${String(v).padStart(4, '0')}`;
            const response = await fetch(`${world.worker.url}/invoices/${round}`, {
              headers: { cookie: `rollout_id=${id}` },
            }).catch((error: unknown) => ({ status: 0, error: String(error) }) as const);
            sent++;
            if (response.status !== 200) {
              failed++;
              failures.push(`${id}: ${response.status}`);
            }
            if ('body' in response) await response.body?.cancel();
          }
      }),
    );
    await operator;

    console.log(
      `control-plane-down: visitor GETs ${sent}, failed ${failed}, during the outage ${outageRequests}; admin answers during the outage ${adminDuringOutage.join(', ')}`,
    );
    expect(failures.slice(0, 5)).toEqual([]);
    expect(outageRequests).toBeGreaterThan(0);
    expect(adminDuringOutage).toEqual([503, 503]);

    // Back: the writes made before the outage are all there, and the next one follows them.
    const after = await admin('GET', '/state');
    expect(after.json.version).toBe(before.json.version);
    expect(after.json.config.flags.templates).toMatchObject({ enabled: true, percent: 50 });
    const next = await admin('PUT', '/percent', { percent: 50 });
    expect(next.status).toBe(200);
    expect(next.json.version).toBe(before.json.version + 1);
  });
});
