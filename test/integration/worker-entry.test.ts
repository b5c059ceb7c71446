import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../worker/index';
import type { Env } from '../../worker/env';
import { testVars } from '../support/in-workerd/test-app';

async function call(vars: Record<string, string>, path = '/'): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`https://app.example.com${path}`),
    { ...(env as unknown as Env), ...vars } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

describe('the Worker entry point', () => {
  it('proxies with the vars from its env', async () => {
    const response = await call(testVars());
    expect(response.status).toBe(200);
    expect(response.headers.get('x-rollout-cohort')).toBe('stable');
  });

  it('answers 503 naming the bad variable when its vars are invalid, never a crash', async () => {
    const response = await call(testVars({ STABLE_ORIGIN: 'not-a-url', CONFIG_CACHE_SECONDS: 'soon' }));
    expect(response.status).toBe(503);
    const body = (await response.json()) as { issues: string[] };
    expect(body.issues.join('\n')).toContain('STABLE_ORIGIN');
    expect(body.issues.join('\n')).toContain('CONFIG_CACHE_SECONDS');
  });

  it('refuses to start with an admin token shorter than 32 characters, naming it', async () => {
    const response = await call(testVars({ ADMIN_TOKEN: 'a'.repeat(31) }));
    expect(response.status).toBe(503);
    const body = (await response.json()) as { issues: string[] };
    expect(body.issues.join('\n')).toMatch(/ADMIN_TOKEN.*at least 32 characters/);
  });
});
