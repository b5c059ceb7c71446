import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/run-cli';
import { localWorkerBehindEchoOrigins } from '../support/local-worker/wrangler-dev-behind-echo-origins';

// Named tokens through the real stack (`npm run dev`): the ADMIN_TOKENS line that
// `npx rollout token new` prints reaches the control Worker, and the role it names holds.

async function cli(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env,
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

async function newToken(name: string, role: string): Promise<{ token: string; line: string }> {
  const made = await cli(['token', 'new', '--name', name, '--role', role, '--json']);
  expect(made.code).toBe(0);
  return JSON.parse(made.stdout) as { token: string; line: string };
}

const operator = await newToken('ci-deployer', 'operator');
const viewer = await newToken('support', 'viewer');

describe('named tokens against the real Workers (wrangler dev)', () => {
  const world = localWorkerBehindEchoOrigins({
    ADMIN_TOKENS: `${operator.line},${viewer.line}`,
    CONFIG_CACHE_SECONDS: '1',
  });
  const as = (token: string, argv: string[], actor?: string) =>
    cli(argv, {
      ROLLOUT_URL: world.worker.url,
      ROLLOUT_TOKEN: token,
      ...(actor ? { ROLLOUT_ACTOR: actor } : {}),
    });

  it('lets the operator ramp, audited as ci-deployer (alice), and refuses the viewer’s write with 403', async () => {
    const ramp = await as(operator.token, ['set', '5', '--yes', '--reason', 'first step'], 'alice');
    expect(ramp.code, ramp.stderr).toBe(0);
    const refused = await as(viewer.token, ['set', '10', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/forbidden: support has the viewer role/);
    const audit = await as(viewer.token, ['audit', '--limit', '5', '--json']);
    expect(audit.code, audit.stderr).toBe(0);
    const entries = (JSON.parse(audit.stdout) as { entries: { actor: string; action: string }[] }).entries;
    expect(entries.map((entry) => `${entry.action} by ${entry.actor}`)).toEqual([
      'set-percent by ci-deployer (alice)',
    ]);
  });

  it('answers an unknown token 401 with the development hint', async () => {
    const response = await fetch(`${world.worker.url}/__rollout/state`, {
      headers: { authorization: 'Bearer not-a-token-0123456789abcdef0123456789' },
    });
    expect(response.status).toBe(401);
    expect(JSON.stringify(await response.json())).toMatch(/npm start/);
  });
});
