import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeCloudflareApi, type FakeCloudflareApi } from '../support/fake-cloudflare-api/server';
import { runWithWranglerStub } from '../support/wrangler-stub/run-with-stub';

const STABLE = 'https://stable.app.example.com';
const EDGE = 'edge-rollout-production';

// The edge's routes, and what the DNS of each hostname says.
const ROUTES = [
  { id: 'r-app', pattern: 'app.example.com/*', script: EDGE },
  { id: 'r-www', pattern: 'www.example.com/*', script: EDGE },
  { id: 'r-other', pattern: 'docs.example.com/*', script: 'docs-worker' },
];
const TO_STABLE = [
  { id: 'd1', name: 'app.example.com', type: 'CNAME', content: 'stable.app.example.com', proxied: true },
  { id: 'd2', name: 'www.example.com', type: 'CNAME', content: 'stable.app.example.com', proxied: true },
] as const;

describe('scripts/rollback.sh --detach against a stand-in Cloudflare API', () => {
  let api: FakeCloudflareApi;
  let stateDir: string;
  const start = async (dns: readonly object[]) => {
    api = await startFakeCloudflareApi({
      routes: ROUTES.map((route) => ({ ...route })),
      dns: dns.map((record) => ({ ...record })) as never,
    });
  };
  const env = () => ({
    CLOUDFLARE_API_BASE_URL: api.baseUrl,
    CLOUDFLARE_API_TOKEN: api.zone.token,
    CLOUDFLARE_ZONE_ID: api.zone.zoneId,
    STABLE_ORIGIN: STABLE,
    LAUNCH_STATE_DIR: stateDir,
  });
  const rollback = (...args: string[]) =>
    runWithWranglerStub('scripts/rollback.sh', ['--detach', ...args], { env: env(), timeoutMs: 60_000 });
  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'detach-state-'));
  });
  afterEach(async () => {
    await api?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('--dry-run names the routes it would remove and removes nothing', async () => {
    await start(TO_STABLE);
    const run = await rollback('--dry-run');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('ok      app.example.com/* (r-app): proxied CNAME → stable.app.example.com');
    expect(run.stdout).toContain('ok      www.example.com/* (r-www)');
    expect(run.stdout).not.toContain('docs.example.com');
    expect(run.stdout).toContain('DRY RUN: would remove 2 route(s)');
    expect(api.zone.routes).toHaveLength(3);
    expect(api.zone.calls.filter((call) => !call.startsWith('GET '))).toEqual([]);
    expect(existsSync(join(stateDir, 'production.detached'))).toBe(false);
    expect(run.wranglerCalls).toEqual([]);
  });

  it.each([
    [
      'a placeholder A record',
      { type: 'A', content: '192.0.2.1', proxied: true },
      /does not point at stable/,
    ],
    [
      'a grey-cloud record to stable',
      { type: 'CNAME', content: 'stable.app.example.com', proxied: false },
      /not proxied/,
    ],
  ])('refuses when a hostname has %s: removing the route would be an outage', async (_, www, message) => {
    await start([TO_STABLE[0], { id: 'd2', name: 'www.example.com', ...www }]);
    const run = await rollback('--dry-run');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      new RegExp(`REFUSED www\\.example\\.com/\\* \\(r-www\\): .*${message.source}`),
    );
    expect(run.stderr).toContain('would be an outage');
    expect(api.zone.routes).toHaveLength(3);
  });

  it('refuses when a hostname has no DNS record at all (a Custom Domain or a route-only hostname)', async () => {
    await start([TO_STABLE[0]]);
    const run = await rollback();
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/REFUSED www\.example\.com\/\* \(r-www\): no A\/AAAA\/CNAME record/);
    expect(api.zone.routes).toHaveLength(3);
    expect(existsSync(join(stateDir, 'production.detached'))).toBe(false);
  });

  it('removes the routes, records them, makes production-deploy.sh refuse, and --reattach puts them back', async () => {
    await start(TO_STABLE);
    const run = await rollback();
    expect(run.code, run.stderr).toBe(0);
    expect(api.zone.routes.map((route) => route.pattern)).toEqual(['docs.example.com/*']);
    const record = JSON.parse(readFileSync(join(stateDir, 'production.detached'), 'utf8'));
    expect(record.routes).toEqual([
      { pattern: 'app.example.com/*', script: EDGE },
      { pattern: 'www.example.com/*', script: EDGE },
    ]);

    const deploy = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [
        '--dry-run',
        '--skip-tests',
        '--stable-health',
        'http://127.0.0.1:9/h',
        '--canary-health',
        'http://127.0.0.1:9/h',
      ],
      { env: { ...env(), ROLLOUT_TOKEN: 'x', ROLLOUT_URL: 'http://127.0.0.1:9' }, timeoutMs: 60_000 },
    );
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toContain('is detached');
    expect(deploy.stderr).toContain('npx rollout detach --reattach');
    expect(deploy.wranglerCalls).toEqual([]);

    const back = await runWithWranglerStub(
      'node',
      [
        'bin/rollout.mjs',
        'detach',
        '--reattach',
        '--env',
        'production',
        '--zone',
        api.zone.zoneId,
        '--worker',
        EDGE,
        '--stable-origin',
        STABLE,
        '--state-dir',
        stateDir,
      ],
      { env: env(), timeoutMs: 60_000 },
    );
    expect(back.code, back.stderr).toBe(0);
    expect(api.zone.routes.map((route) => route.pattern).sort()).toEqual([
      'app.example.com/*',
      'docs.example.com/*',
      'www.example.com/*',
    ]);
    expect(existsSync(join(stateDir, 'production.detached'))).toBe(false);
  });
});
