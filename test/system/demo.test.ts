import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/local-worker/wrangler-dev';

describe('npm start (the local demo)', () => {
  it('serves the split with seeded flags, prints the token and a curl line, and stops on Ctrl-C', async () => {
    const port = await freePort();
    const state = mkdtempSync(join(tmpdir(), 'edge-rollout-demo-'));
    const child = spawn('node', ['scripts/demo/start-demo.mjs'], {
      env: { ...process.env, PORT: String(port), DEMO_STATE_DIR: state, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    try {
      const deadline = Date.now() + 90_000;
      while (
        !output.includes('Ctrl-C stops everything') &&
        Date.now() < deadline &&
        child.exitCode === null
      ) {
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(output).toContain(`http://127.0.0.1:${port}`);
      const token = /Admin token:\s+(\S+)/.exec(output)?.[1];
      expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(output).toContain(`Authorization: Bearer ${token}`);

      const cohorts = { stable: 0, canary: 0 } as Record<string, number>;
      for (let i = 0; i < 60; i++) {
        const response = await fetch(`http://127.0.0.1:${port}/`);
        const html = await response.text();
        const cohort = response.headers.get('x-rollout-cohort')!;
        cohorts[cohort]!++;
        expect(html).toContain(cohort === 'canary' ? 'Invoicing app v2' : 'Invoicing app v1');
        expect(html).toMatch(
          /window\.__FLAGS__=\{"fileStorage":(true|false),"templates":(true|false),"emailDelivery":false,"analytics":true\}/,
        );
      }
      // 10 % of 60 fresh visitors: a handful on the canary, most on stable.
      expect(cohorts.stable).toBeGreaterThan(40);
      // The seeded config is what serves: a 10 % ramp with the four flags.
      const state = (await (
        await fetch(`http://127.0.0.1:${port}/__rollout/state`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).json()) as { state: string; percent: number; config: { flags: Record<string, unknown> } };
      expect(state).toMatchObject({ state: 'ramping', percent: 10 });
      expect(Object.keys(state.config.flags)).toEqual([
        'fileStorage',
        'templates',
        'emailDelivery',
        'analytics',
      ]);
    } finally {
      process.kill(-child.pid!, 'SIGINT');
      const exited = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(true);
        });
        if (child.exitCode !== null) resolve(true);
      });
      rmSync(state, { recursive: true, force: true });
      expect(exited).toBe(true);
    }
    await expect(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });
});
