import { beforeAll, describe, expect, it } from 'vitest';
import { guardVerdictRecord } from '../support/fixtures/guard-verdict-record';
import { localWorkerBehindEchoOrigins } from '../support/local-worker/wrangler-dev-behind-echo-origins';
import { runCli } from '../../cli/run-cli';
import { putLocalKv } from '../support/wrangler-stub/local-kv';
import { runWithWranglerStub } from '../support/wrangler-stub/run-with-stub';

const TOKEN = 'deploy-script-token-0123456789';
const PREVIOUS = '0a0a0a0a-1111-4222-8333-444444444444';
const NEW = '9f9f9f9f-5555-4666-8777-888888888888';

interface State {
  version: number;
  state: string;
  percent: number;
  config: { flags: Record<string, { enabled: boolean; percent: number }> };
}

describe('scripts/production-deploy.sh with the wrangler stub and the real Worker', () => {
  const world = localWorkerBehindEchoOrigins({
    ADMIN_TOKEN: TOKEN,
  });
  let env: Record<string, string>;
  let healthArgs: string[];

  beforeAll(() => {
    env = {
      ROLLOUT_URL: world.worker.url,
      ROLLOUT_TOKEN: TOKEN,
      WRANGLER_STUB_PREVIOUS_VERSION: PREVIOUS,
      WRANGLER_STUB_NEW_VERSION: NEW,
    };
    healthArgs = [
      '--stable-health',
      `http://127.0.0.1:${world.stable.port}/health`,
      '--canary-health',
      `http://127.0.0.1:${world.canary.port}/health`,
    ];
  });

  async function cli(...argv: string[]): Promise<string> {
    let out = '';
    const code = await runCli(argv, {
      env: { ROLLOUT_URL: world.worker.url, ROLLOUT_TOKEN: TOKEN },
      stdout: (text) => (out += text),
      stderr: (text) => (out += text),
    });
    expect(code, out).toBe(0);
    return out;
  }
  const state = async () => JSON.parse(await cli('status', '--json')) as State;

  it('--dry-run prints every phase and changes nothing: no wrangler call, no config write', async () => {
    const before = await state();
    const run = await runWithWranglerStub('scripts/production-deploy.sh', [...healthArgs, '--dry-run'], {
      env,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.wranglerCalls).toEqual([]);
    expect(run.stdout).toContain('DRY RUN: nothing below is run, nothing changes.');
    for (const line of [
      'would run: npm test',
      'would run: wrangler secret list --env production',
      'would run: wrangler deploy --env production',
      'would run: npx rollout set 10 --reason',
      'would bake 900 s, then gate after 50 % on: npx rollout status --json',
      'would run: npx rollout promote',
      'would send PUT /__rollout/flags/emailDelivery {"enabled":true,"percent":100}',
    ]) {
      expect(run.stdout).toContain(line);
    }
    expect(await state()).toEqual(before);
  });

  it('refuses bad arguments with exit 2 before doing anything', async () => {
    for (const [args, message] of [
      [['--steps', '10 5 100'], '--steps must rise strictly'],
      [['--steps', '10 50'], '--steps must end at 100'],
      [['--bake', 'soon'], '--bake must be a whole number of seconds'],
      [['--max-error-rate', '150'], '--max-error-rate must be a percent'],
      [['--env', 'prod/eu'], '--env must be'],
      [['--bogus'], 'unknown argument: --bogus'],
    ] as const) {
      const run = await runWithWranglerStub('scripts/production-deploy.sh', [...healthArgs, ...args], {
        env,
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.wranglerCalls).toEqual([]);
    }
    const noOrigins = await runWithWranglerStub('scripts/production-deploy.sh', [], { env });
    expect(noOrigins.code).toBe(2);
    expect(noOrigins.stderr).toContain("both origins' health URLs are needed");
  });

  it('stops before deploying when ADMIN_TOKEN is not among the secrets', async () => {
    const run = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [...healthArgs, '--skip-tests', '--bake', '1'],
      {
        env: { ...env, WRANGLER_STUB_SECRETS: 'SENTRY_DSN' },
      },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'ADMIN_TOKEN is not a secret of the Worker: wrangler secret put ADMIN_TOKEN --env production',
    );
    expect(run.stderr).toContain('Deploy stopped before anything was deployed.');
    expect(run.wranglerCalls).toEqual([['secret', 'list', '--env', 'production']]);
    expect((await state()).state).toBe('idle');
  });

  it('deploys, ramps 10 → 50 → 100 through gates, promotes, and turns the flags on in plan order', async () => {
    // The guard does not run under wrangler dev: a healthy verdict dated after every step stands in.
    await putLocalKv(
      world.worker.persistDir,
      'guard:verdict',
      JSON.stringify(guardVerdictRecord({ status: 'healthy', at: '2099-01-01T00:00:00.000Z' })),
    );
    const run = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [...healthArgs, '--skip-tests', '--bake', '1'],
      {
        env,
        timeoutMs: 90_000,
      },
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.wranglerCalls).toEqual([
      ['secret', 'list', '--env', 'production'],
      ['deployments', 'status', '--env', 'production', '--json'],
      ['deploy', '--env', 'production'],
    ]);
    const phases = ['==> Phase A', '==> Phase B', '==> Phase C', 'Launched:'].map((marker) =>
      run.stdout.indexOf(marker),
    );
    expect(phases.every((at, i) => at >= 0 && (i === 0 || at > phases[i - 1]!))).toBe(true);
    expect(run.stdout).toContain(`currently deployed: ${PREVIOUS}`);
    expect(run.stdout).toContain(`deployed version ${NEW}`);
    for (const pct of [10, 50, 100]) {
      expect(run.stdout).toContain(`gate after ${pct} % passed: ramping at ${pct} %, guard healthy`);
    }

    const final = await state();
    expect(final).toMatchObject({ state: 'promoted', percent: 100 });
    for (const flag of ['fileStorage', 'templates', 'emailDelivery', 'analytics']) {
      expect(final.config.flags[flag]).toMatchObject({ enabled: true, percent: 100 });
    }
    const audit = JSON.parse(await cli('audit', '--limit', '8', '--json')) as {
      entries: { action: string; actor: string; after: { flags?: object } }[];
    };
    // Newest first: the flags in plan order (reversed), after the promote and the three steps.
    expect(audit.entries.map((entry) => entry.action)).toEqual([
      'set-flag',
      'set-flag',
      'set-flag',
      'set-flag',
      'promote',
      'set-percent',
      'set-percent',
      'set-percent',
    ]);
    expect(audit.entries.every((entry) => entry.actor === 'token:production-deploy')).toBe(true);
    const flagOrder = run.stdout.match(/✔ (\w+) on for 100 %/g)?.map((line) => line.split(' ')[1]);
    expect(flagOrder).toEqual(['fileStorage', 'templates', 'emailDelivery', 'analytics']);
  });

  it('stops at the first failed gate (a guard breach) with the rollback command and exit 1', async () => {
    await cli('abort', '--reason', 'reset for the failing-gate run');
    await putLocalKv(
      world.worker.persistDir,
      'guard:verdict',
      JSON.stringify(
        guardVerdictRecord({
          status: 'breach',
          at: new Date().toISOString(),
          canaryErrorRatePercent: 3.2,
          reasons: [
            { metric: 'errorRate', value: 3.2, threshold: 1, message: 'canary error rate 3.2 % > 1 %' },
          ],
        }),
      ),
    );
    const run = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [...healthArgs, '--skip-tests', '--bake', '1', '--skip-flags'],
      { env },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      '✘ gate after 10 % failed: guard verdict: breach (canary error rate 3.2 % > 1 %)',
    );
    expect(run.stderr).toContain('Deploy stopped. Roll back now');
    expect(run.stderr).toContain(
      `scripts/rollback.sh --env production --url ${world.worker.url} --version ${PREVIOUS} --reason 'production-deploy: gate after 10 % failed'\n`,
    );
    expect(run.stdout).not.toContain('canary to 50 %');
    expect(await state()).toMatchObject({ state: 'ramping', percent: 10 });
  });

  it('fails a gate without a fresh healthy verdict, and passes it with --allow-no-verdict and a warning', async () => {
    await cli('abort', '--reason', 'reset for the no-verdict run');
    await putLocalKv(
      world.worker.persistDir,
      'guard:verdict',
      JSON.stringify(guardVerdictRecord({ status: 'healthy', at: '2020-01-01T00:00:00.000Z' })),
    );
    const stale = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [...healthArgs, '--skip-tests', '--bake', '1', '--skip-flags'],
      { env },
    );
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(
      '✘ gate after 10 % failed: the guard verdict (2020-01-01T00:00:00.000Z) predates this step',
    );
    expect(await state()).toMatchObject({ state: 'ramping', percent: 10 });

    await cli('abort', '--reason', 'reset for the allow-no-verdict run');
    const allowed = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [
        ...healthArgs,
        '--skip-tests',
        '--bake',
        '1',
        '--skip-flags',
        '--steps',
        '10 100',
        '--allow-no-verdict',
      ],
      { env, timeoutMs: 60_000 },
    );
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain('passed with --allow-no-verdict');
    expect(await state()).toMatchObject({ state: 'promoted', percent: 100 });
  });

  it('with --max-error-rate, fails a gate whose healthy verdict shows a canary error rate above it', async () => {
    await cli('abort', '--reason', 'reset for the error-rate run');
    // Dated after the step begins, as the guard's next run would be.
    const verdict = guardVerdictRecord({
      status: 'healthy',
      at: '2099-01-01T00:00:00.000Z',
      canaryErrorRatePercent: 2.5,
    });
    await putLocalKv(world.worker.persistDir, 'guard:verdict', JSON.stringify(verdict));
    const run = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [...healthArgs, '--skip-tests', '--bake', '1', '--skip-flags', '--max-error-rate', '1'],
      { env },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('✘ gate after 10 % failed: canary error rate 2.5 % > 1 %');
    expect(await state()).toMatchObject({ state: 'ramping', percent: 10 });
  });
});
