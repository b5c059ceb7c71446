import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CohortStats } from '../../src/guard/analyze-canary';
import { localWorkerBehindEchoOrigins } from '../support/local-worker/wrangler-dev-behind-echo-origins';
import { runCli } from '../../cli/run-cli';
import { cohortStatsAnswer, fakeSqlApi, trafficSplitAnswer } from '../support/fake-sql-api/control';
import { startFakeSqlApi } from '../support/fake-sql-api/server';
import type { LoopbackServer } from '../support/loopback/loopback-server';
import { runWithWranglerStub } from '../support/wrangler-stub/run-with-stub';

const TOKEN = 'deploy-script-token-0123456789abcdef';
const PREVIOUS = '0a0a0a0a-1111-4222-8333-444444444444';
const NEW = '9f9f9f9f-5555-4666-8777-888888888888';
const ACCOUNT = '0123456789abcdef0123456789abcdef';
const SQL_TOKEN = 'deploy-script-analytics-read-token';
const STUB_DIR = fileURLToPath(new URL('../support/wrangler-stub', import.meta.url));
const OVERRIDE_SECRET = 'deploy-script-override-secret-0123456789';
/** The secrets .env.production.example marks as required. */
// The control Worker's production secrets marked [required] in .env.production.example
// (named tokens, the guard's SQL access and its webhook, Sentry).
const REQUIRED_SECRETS = [
  'ADMIN_TOKENS',
  'OVERRIDE_SECRET',
  'CF_ACCOUNT_ID',
  'CF_API_TOKEN',
  'GUARD_WEBHOOK_URL',
  'SENTRY_DSN',
];
// Values that must never appear in any output.
const SECRET_VALUES = {
  OVERRIDE_SECRET: 'override-value-4f1c9a7e2b6d',
  CF_API_TOKEN: 'api-token-value-8e3a1b5c9d0f',
  GUARD_WEBHOOK_URL: 'https://hooks.example.com/services/T000/B000/secret-path-77aa',
};

interface State {
  version: number;
  state: string;
  percent: number;
  config: {
    flags: Record<string, { enabled: boolean; percent?: number; fallthrough?: unknown }>;
    routes: { name: string }[];
    rollout: { salt: string };
  };
}

// The guard is on, reading a stand-in SQL API on loopback: every verdict a gate judges is one the
// Worker's own Cron Trigger handler stored, from the numbers the stand-in answers.
describe('scripts/production-deploy.sh with the wrangler stub and the real Worker', () => {
  let sqlApi: LoopbackServer;
  beforeAll(async () => {
    sqlApi = await startFakeSqlApi();
  });
  afterAll(async () => {
    await sqlApi?.close();
  });
  const world = localWorkerBehindEchoOrigins(
    { ADMIN_TOKEN: TOKEN, CF_ACCOUNT_ID: ACCOUNT, CF_API_TOKEN: SQL_TOKEN, OVERRIDE_SECRET },
    { lateVars: () => ({ ANALYTICS_SQL_BASE_URL: `http://127.0.0.1:${sqlApi.port}` }) },
  );
  let env: Record<string, string>;
  let healthArgs: string[];
  let dir: string;
  let config: string;
  let stateDir: string;
  let controlConfig: string;
  let launchFile: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'production-deploy-'));
    // The repository's wrangler.toml keeps REPLACE_WITH… placeholders, as a fresh clone does: a
    // launch uses a copy with the namespace ids filled in.
    config = join(dir, 'wrangler.toml');
    writeFileSync(
      config,
      readFileSync('wrangler.toml', 'utf8').replace(
        /REPLACE_WITH_[A-Z_]+/g,
        '0123456789abcdef0123456789abcdef',
      ),
    );
    controlConfig = join(dir, 'control.wrangler.toml');
    writeFileSync(
      controlConfig,
      readFileSync('worker/control/wrangler.toml', 'utf8').replace(
        /REPLACE_WITH_[A-Z_]+/g,
        '0123456789abcdef0123456789abcdef',
      ),
    );
    stateDir = join(dir, 'launch');
    // The reviewed launch file, with the loopback echo origins in place of the example's hosts
    // and without uptime probes (the gates here judge the stand-in SQL API's numbers alone).
    const plan = JSON.parse(readFileSync('docs/examples/invoicing-launch.json', 'utf8')) as {
      config: { origins: object; probes?: object };
    };
    plan.config.origins = {
      stable: `http://127.0.0.1:${world.stable.port}`,
      canary: `http://127.0.0.1:${world.canary.port}`,
    };
    delete plan.config.probes;
    launchFile = join(dir, 'invoicing-launch.json');
    writeFileSync(launchFile, JSON.stringify(plan));
    env = {
      ROLLOUT_URL: world.worker.url,
      ROLLOUT_TOKEN: TOKEN,
      WRANGLER_STUB_PREVIOUS_VERSION: PREVIOUS,
      WRANGLER_STUB_NEW_VERSION: NEW,
      WRANGLER_STUB_SECRETS: REQUIRED_SECRETS.join(','),
      LAUNCH_STATE_DIR: stateDir,
    };
    healthArgs = [
      '--config',
      config,
      '--control-config',
      controlConfig,
      '--stable-health',
      `http://127.0.0.1:${world.stable.port}/health`,
      '--canary-health',
      `http://127.0.0.1:${world.canary.port}/health`,
      '--launch-file',
      launchFile,
    ];
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What the stand-in SQL API answers every guard run from now on: the window's two cohorts. */
  async function metrics(cohorts: { canary: Partial<CohortStats>; stable?: Partial<CohortStats> }) {
    await fakeSqlApi(`http://127.0.0.1:${sqlApi.port}`).script(ACCOUNT, SQL_TOKEN, [
      // No split to test: the sample-ratio check has no traffic rows to judge.
      { sqlIncludes: 'AS minute', answer: { json: trafficSplitAnswer([]) } },
      { answer: { json: cohortStatsAnswer(cohorts) } },
    ]);
  }
  /** One guard run by the Worker's Cron Trigger handler; returns the verdict it stored. */
  async function guardRun(): Promise<{ status: string; at: string }> {
    await world.worker.runScheduled();
    const response = await fetch(`${world.worker.url}/__rollout/state`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const { guard } = (await response.json()) as { guard: { status: string; at: string } | null };
    expect(guard, world.worker.output()).not.toBeNull();
    return guard!;
  }
  /**
   * Env for a launch whose PATH also holds stand-ins for `sleep` and `date`:
   * - `guardDuringBake`: each wait fires the Cron Trigger once first, as the minutely trigger
   *   would during a real bake, so every gate judges a verdict from its own step;
   * - `clockAheadMinutes`: the script's clock runs that far ahead, as if the step began that
   *   long after the guard's last run (wrangler dev fires the trigger only at the current time).
   */
  function launchEnv(options: {
    guardDuringBake?: boolean;
    clockAheadMinutes?: number;
    /** After the guard's run in each bake, someone writes a config change (a flag's percent). */
    writeAfterGuard?: boolean;
  }): Record<string, string> {
    const bin = mkdtempSync(join(dir, 'bin-'));
    const real = (name: string) =>
      execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    if (options.guardDuringBake) {
      // The control Worker's "run now" (the Cron handler's run at the current time).
      const trigger = `${world.worker.url}/__rollout/guard/run`;
      writeFileSync(
        join(bin, 'sleep'),
        [
          '#!/bin/sh',
          `ran=$(curl -sS --max-time 30 -X POST -H 'authorization: Bearer ${TOKEN}' '${trigger}')`,
          'case "$ran" in *\'"ran":true\'*) ;; *) echo "the guard did not run: $ran" >&2; exit 1 ;; esac',
          ...(options.writeAfterGuard
            ? [
                `curl -sS -f -o /dev/null --max-time 30 -X PUT -H 'authorization: Bearer ${TOKEN}' ` +
                  `-H 'content-type: application/json' -d '{"enabled":true,"percent":7}' ` +
                  `'${world.worker.url}/__rollout/flags/templates' || exit 1`,
              ]
            : []),
          `exec ${real('sleep')} "$@"`,
        ].join('\n'),
      );
      chmodSync(join(bin, 'sleep'), 0o755);
    }
    if (options.clockAheadMinutes) {
      const date = real('date');
      writeFileSync(
        join(bin, 'date'),
        `#!/bin/sh\nexec ${date} -d "@$(( $(${date} +%s) + ${options.clockAheadMinutes * 60} ))" "$@"\n`,
      );
      chmodSync(join(bin, 'date'), 0o755);
    }
    return { ...env, PATH: `${bin}:${STUB_DIR}:${process.env.PATH}` };
  }

  const secretList = ['secret', 'list', '--env', 'production', '--config'];

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

  it('--dry-run runs the read-only checks, prints every phase and changes nothing', async () => {
    const before = await state();
    const run = await runWithWranglerStub('scripts/production-deploy.sh', [...healthArgs, '--dry-run'], {
      env,
    });
    expect(run.code, run.stderr).toBe(0);
    // The only wrangler calls are the read-only secret lists, one per Worker.
    expect(run.wranglerCalls).toEqual([
      [...secretList, config],
      [...secretList, controlConfig],
    ]);
    expect(run.stdout).toContain('DRY RUN: the read-only checks run; nothing else runs and nothing changes.');
    for (const line of [
      'would run: npm test',
      '✔ no placeholder left for env production',
      '✔ every required secret of the edge Worker is set or in the file: OVERRIDE_SECRET',
      `✔ every required secret of the control Worker is set or in the file: ${REQUIRED_SECRETS.join(' ')}`,
      `would run: wrangler deploy --env production --config ${controlConfig}`,
      '✔ stable origin is up',
      '✔ canary origin is up',
      `would run: wrangler deploy --env production --config ${config}`,
      '✔ 7 flag phases; every flag they name is in the launch config',
      `-> the launch config: ${launchFile}`,
      'Preview: version',
      'would write it: PUT /__rollout/config with If-Match:',
      'would run: npx rollout override-link canary --ttl 3600',
      'then the launch stops here until QA is confirmed',
      'would run: npx rollout set 10 --reason',
      'would bake 900 s, then gate after 50 % on: npx rollout status --json',
      'would run: npx rollout promote',
      'would send PUT /__rollout/flags/emailDelivery {"enabled":true}',
      'would send PUT /__rollout/flags/emailDelivery {"enabled":true,"weights":{"split":{"on":25,"off":75}}}',
    ]) {
      expect(run.stdout).toContain(line);
    }
    expect(run.stdout).toContain('Dry run done: every check passed; nothing was changed.');
    // The order of phase A's end: deploy, the config preview, the QA stop, then phase B.
    const order = [
      'would run: wrangler deploy --env production --config',
      'Preview: version',
      'then the launch stops here',
      '==> Phase B',
    ].map((line) => run.stdout.indexOf(line));
    expect(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!))).toBe(true);
    expect(run.stdout).not.toContain('"create"');
    expect(await state()).toEqual(before);
  });

  it('--dry-run reports every failed precondition (token, placeholders, secrets, origin) and exits 1', async () => {
    const { ROLLOUT_TOKEN: _token, ...noToken } = env;
    const run = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [
        // The repository's own wrangler.toml, placeholders and all.
        '--stable-health',
        `http://127.0.0.1:${world.stable.port}/health`,
        '--canary-health',
        `http://127.0.0.1:${world.canary.port}/status/503`,
        '--dry-run',
        '--skip-flags',
      ],
      { env: { ...noToken, WRANGLER_STUB_SECRETS: 'ADMIN_TOKEN' } },
    );
    expect(run.code).toBe(1);
    const failures = run.stderr.slice(run.stderr.indexOf('check(s) failed'));
    for (const failure of [
      '✘ ROLLOUT_TOKEN is not set',
      '✘ the edge wrangler config still has REPLACE_WITH… placeholders for env production',
      '✘ the control wrangler config still has REPLACE_WITH… placeholders for env production',
      '✘ required secret(s) of the edge Worker missing from both .env.production and its wrangler secret list: OVERRIDE_SECRET',
      '✘ required secret(s) of the control Worker missing from both .env.production and its wrangler secret list: ADMIN_TOKENS OVERRIDE_SECRET CF_ACCOUNT_ID CF_API_TOKEN GUARD_WEBHOOK_URL SENTRY_DSN',
      "✘ the canary origin's health URL does not answer 2xx",
    ])
      expect(failures).toContain(failure);
    // The line numbers of the two configs' production KV placeholders.
    expect(run.stdout).toContain('line 103: id = "REPLACE_WITH_PRODUCTION_KV_NAMESPACE_ID"');
    expect(run.stdout).toContain('line 119: id = "REPLACE_WITH_PRODUCTION_KV_NAMESPACE_ID"');
    expect(run.stderr).toContain('Dry run done: nothing was changed, but 6 check(s) failed');
    expect(run.wranglerCalls).toEqual([
      ['secret', 'list', '--env', 'production'],
      ['secret', 'list', '--env', 'production', '--config', `${process.cwd()}/worker/control/wrangler.toml`],
    ]);
  });

  it('--dry-run shows the migration, then the old-version check, before the deploy and any traffic', async () => {
    const run = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [
        ...healthArgs,
        '--dry-run',
        '--skip-flags',
        '--migrate',
        'npm run db:migrate',
        '--check-old',
        'npm run smoke:stable',
      ],
      { env },
    );
    expect(run.code, run.stderr).toBe(0);
    const order = [
      'would run: npm run db:migrate',
      'would run: npm run smoke:stable',
      'would run: wrangler deploy --env production',
      'would run: npx rollout set 10',
    ].map((line) => run.stdout.indexOf(line));
    expect(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!))).toBe(true);
    expect(existsSync(join(stateDir, 'production.migration'))).toBe(false);
  });

  it('a failing migration stops phase A before the deploy and before any traffic moves', async () => {
    const before = await state();
    const marker = join(dir, 'check-old-ran');
    const run = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [
        ...healthArgs,
        '--skip-tests',
        '--migrate',
        'echo applying 0042_invoice_template_id; exit 3',
        '--check-old',
        `touch ${marker}`,
      ],
      { env },
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('applying 0042_invoice_template_id');
    expect(run.stderr).toContain('✘ the migration failed');
    expect(run.stderr).toContain('Deploy stopped before anything was deployed and before any traffic moved.');
    expect(run.stderr).toContain('docs/ROLLBACK-PROCEDURE.md (Database)');
    expect(run.wranglerCalls.map((call) => call[0])).toEqual([
      'secret',
      'secret',
      'deployments',
      'deployments',
    ]);
    expect(existsSync(marker)).toBe(false);
    expect(await state()).toEqual(before);

    // The migration is recorded: the rollback reminds of the schema.
    const rollback = await runWithWranglerStub('scripts/rollback.sh', ['--dry-run'], { env });
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain('A database migration was recorded for this launch (migration started');
    expect(rollback.stdout).toContain('does NOT roll the schema back');
    rmSync(join(stateDir, 'production.migration'));
  });

  it('a failing old-version check stops before the deploy', async () => {
    const run = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [...healthArgs, '--skip-tests', '--migrate', 'true', '--check-old', 'echo stable smoke: 500; exit 1'],
      { env },
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✔ migration applied');
    expect(run.stderr).toContain('✘ the stable version fails against the migrated schema (--check-old)');
    expect(run.wranglerCalls.some((call) => call[0] === 'deploy')).toBe(false);
    expect((await state()).state).toBe('idle');
    rmSync(join(stateDir, 'production.migration'));
  });

  it('a required secret missing from the file and the Worker stops phase A by name; values never show', async () => {
    const secrets = join(dir, 'env.production');
    writeFileSync(
      secrets,
      [
        '# production secrets',
        `OVERRIDE_SECRET=${SECRET_VALUES.OVERRIDE_SECRET}`,
        `GUARD_WEBHOOK_URL="${SECRET_VALUES.GUARD_WEBHOOK_URL}"`,
        'SENTRY_DSN=',
      ].join('\n'),
    );
    const run = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [...healthArgs, '--skip-tests', '--secrets-file', secrets],
      { env: { ...env, WRANGLER_STUB_SECRETS: 'ADMIN_TOKENS,CF_ACCOUNT_ID,SENTRY_DSN' } },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `✘ required secret(s) of the control Worker missing from both ${secrets} and its wrangler secret list: CF_API_TOKEN`,
    );
    expect(run.stdout).toContain('in the file: OVERRIDE_SECRET GUARD_WEBHOOK_URL');
    expect(run.stdout).toContain('skipped (empty in the file): SENTRY_DSN');
    expect(run.wranglerCalls).toEqual([
      [...secretList, config],
      [...secretList, controlConfig],
    ]);
    expect(run.bulkSecretNames).toEqual([]);
    for (const value of Object.values(SECRET_VALUES)) expect(run.stdout + run.stderr).not.toContain(value);

    // With the missing one in the file, the file is pushed (names shown, values never).
    writeFileSync(secrets, `${readFileSync(secrets, 'utf8')}\nCF_API_TOKEN=${SECRET_VALUES.CF_API_TOKEN}\n`);
    const pushed = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [...healthArgs, '--skip-tests', '--secrets-file', secrets, '--migrate', 'exit 1'],
      { env: { ...env, WRANGLER_STUB_SECRETS: 'ADMIN_TOKENS,CF_ACCOUNT_ID,SENTRY_DSN' } },
    );
    expect(pushed.stdout).toContain('✔ secrets pushed: OVERRIDE_SECRET GUARD_WEBHOOK_URL CF_API_TOKEN');
    // Each Worker gets what its config declares: control first, then the edge.
    expect(pushed.bulkSecretNames).toEqual([
      ['OVERRIDE_SECRET', 'GUARD_WEBHOOK_URL', 'CF_API_TOKEN'],
      ['OVERRIDE_SECRET'],
    ]);
    expect(pushed.wranglerCalls).toContainEqual([
      'secret',
      'bulk',
      '--env',
      'production',
      '--config',
      controlConfig,
    ]);
    expect(pushed.wranglerCalls).toContainEqual([
      'secret',
      'bulk',
      '--env',
      'production',
      '--config',
      config,
    ]);
    for (const value of Object.values(SECRET_VALUES))
      expect(pushed.stdout + pushed.stderr).not.toContain(value);
    rmSync(join(stateDir, 'production.migration'));
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

  it('stops before deploying when ADMIN_TOKENS is neither in a secrets file nor among the secrets', async () => {
    const run = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [...healthArgs, '--skip-tests', '--bake', '1'],
      {
        env: {
          ...env,
          WRANGLER_STUB_SECRETS: 'SENTRY_DSN,OVERRIDE_SECRET,CF_ACCOUNT_ID,CF_API_TOKEN,GUARD_WEBHOOK_URL',
        },
      },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'required secret(s) of the control Worker missing from both .env.production and its wrangler secret list: ADMIN_TOKENS',
    );
    expect(run.stderr).toContain('Deploy stopped before anything was deployed');
    expect(run.wranglerCalls).toEqual([
      [...secretList, config],
      [...secretList, controlConfig],
    ]);
    expect((await state()).state).toBe('idle');
  });

  it('refuses a launch file whose flag plan names a flag the config lacks, with "did you mean", before any deploy', async () => {
    const before = await state();
    const plan = JSON.parse(readFileSync(launchFile, 'utf8')) as {
      phases: { flags: Record<string, unknown> }[];
    };
    plan.phases[2]!.flags = { emailDelivry: { enabled: true } };
    const typo = join(dir, 'typo-launch.json');
    writeFileSync(typo, JSON.stringify(plan));
    const run = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [...healthArgs, '--skip-tests', '--qa-confirmed', '--launch-file', typo],
      { env },
    );
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain(
      'phases.2.flags.emailDelivry: unknown flag "emailDelivry": did you mean emailDelivery?',
    );
    expect(run.stderr).toContain('✘ the launch file is not a valid launch plan');
    expect(run.stderr).toContain('Deploy stopped before anything was deployed');
    expect(run.wranglerCalls.some((call) => call[0] === 'deploy')).toBe(false);
    expect(await state()).toEqual(before);
  });

  it('writes the launch config and stops at QA with the override links; with --qa-confirmed, ramps, promotes and runs the flag plan', async () => {
    // A healthy canary: the guard runs once in every bake and finds it healthy.
    await metrics({
      canary: { requests: 5000, errors: 5, p95Ms: 300 },
      stable: { requests: 45_000, errors: 45 },
    });
    expect((await state()).config.routes).toEqual([]);
    const stopped = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [...healthArgs, '--skip-tests', '--bake', '1'],
      { env: launchEnv({ guardDuringBake: true }) },
    );
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(3);
    expect(stopped.stdout).toMatch(/Preview: version \d+ → \d+\./);
    expect(stopped.stdout).toMatch(/✔ launch config written: config version \d+ → \d+/);
    expect(stopped.stdout).toMatch(
      new RegExp(`${world.worker.url}/__rollout/override\\?token=\\S+ {2}\\(canary, until `),
    );
    expect(stopped.stdout).toContain('Stopped at QA: nothing is wrong and no visitor is on the canary.');
    expect(stopped.stdout).not.toContain('==> Phase B');
    // The reviewed config is in force, nobody is on the canary yet, and no step was taken.
    const written = await state();
    expect(written).toMatchObject({ state: 'idle', percent: 0 });
    expect(written.config.rollout.salt).toBe('invoicing-launch-2026-11');
    expect(written.config.routes.map((route) => route.name)).toEqual([
      'invoice_created',
      'template_used',
      'email_sent',
      'file_upload',
    ]);
    expect(Object.values(written.config.flags).every((flag) => !flag.enabled)).toBe(true);

    const run = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [...healthArgs, '--skip-tests', '--bake', '1', '--qa-confirmed'],
      {
        env: launchEnv({ guardDuringBake: true }),
        timeoutMs: 120_000,
      },
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // Control first (the edge's service binding names it), then the edge.
    expect(run.wranglerCalls).toEqual([
      [...secretList, config],
      [...secretList, controlConfig],
      ['deployments', 'status', '--env', 'production', '--config', config, '--json'],
      ['deployments', 'status', '--env', 'production', '--config', controlConfig, '--json'],
      ['deploy', '--env', 'production', '--config', controlConfig],
      ['deploy', '--env', 'production', '--config', config],
    ]);
    const phases = ['==> Phase A', '==> Phase B', '==> Phase C', 'Launched:'].map((marker) =>
      run.stdout.indexOf(marker),
    );
    expect(phases.every((at, i) => at >= 0 && (i === 0 || at > phases[i - 1]!))).toBe(true);
    // The second run finds the config in force: it writes nothing again.
    expect(run.stdout).toContain(
      `✔ the launch config is already in force (config version ${written.version})`,
    );
    expect(run.stdout).toContain('✔ QA confirmed (--qa-confirmed)');
    expect(run.stdout).toContain(`edge currently deployed: ${PREVIOUS}`);
    expect(run.stdout).toContain(`control deployed version ${NEW}`);
    expect(run.stdout).toContain(`edge deployed version ${NEW}`);
    for (const pct of [10, 50, 100]) {
      expect(run.stdout).toContain(`gate after ${pct} % passed: ramping at ${pct} %, guard healthy`);
    }

    const final = await state();
    expect(final).toMatchObject({ state: 'promoted', percent: 100 });
    for (const flag of ['fileStorage', 'templates', 'analytics']) {
      expect(final.config.flags[flag]).toMatchObject({ enabled: true, percent: 100 });
    }
    expect(final.config.flags.emailDelivery).toMatchObject({
      enabled: true,
      fallthrough: { split: { on: 100, off: 0 } },
    });
    expect(final.config.flags.invoiceTemplateVersion).toMatchObject({
      enabled: true,
      fallthrough: { split: { classic: 50, modern: 50 } },
    });
    const audit = JSON.parse(await cli('audit', '--limit', '20', '--json')) as {
      entries: { action: string; actor: string }[];
    };
    // Newest first: seven flag steps, the promote, the three ramp steps, the QA links (each
    // creation is audited, and changes no config), the launch config.
    const actions = audit.entries.map((entry) => entry.action);
    const links = actions.filter((action) => action === 'override-link').length;
    expect(links).toBeGreaterThanOrEqual(2);
    expect(actions.slice(0, 12 + links)).toEqual([
      ...Array(7).fill('set-flag'),
      'promote',
      'set-percent',
      'set-percent',
      'set-percent',
      ...Array(links).fill('override-link'),
      'replace-config',
    ]);
    expect(
      audit.entries.slice(0, 12 + links).every((entry) => entry.actor === 'admin (production-deploy)'),
    ).toBe(true);
    const flagOrder = [...run.stdout.matchAll(/^ +✔ (\w+) (?:on|classic)/gm)].map((match) => match[1]);
    expect(flagOrder).toEqual([
      'fileStorage',
      'templates',
      'emailDelivery',
      'emailDelivery',
      'emailDelivery',
      'invoiceTemplateVersion',
      'analytics',
    ]);
  });

  it('stops at the first failed gate (a guard breach) with the rollback command and exit 1', async () => {
    await cli('abort', '--reason', 'reset for the failing-gate run');
    // 3.2 % of the canary's requests fail against 0.1 % on stable: the guard's run in the first
    // bake judges a breach and aborts the canary itself; the gate stops the launch on it.
    await metrics({
      canary: { requests: 5000, errors: 160, p95Ms: 300 },
      stable: { requests: 45_000, errors: 45 },
    });
    const run = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [...healthArgs, '--skip-tests', '--bake', '1', '--skip-flags', '--qa-confirmed'],
      { env: launchEnv({ guardDuringBake: true }) },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      '✘ gate after 10 % failed: the rollout is aborted; guard verdict: breach (canary error rate 3.20 % > 1.00 % (max of 1 % and stable + 0.5 points): 160 errors in 5000 requests',
    );
    expect(run.stderr).toContain('Deploy stopped. Roll back now');
    expect(run.stderr).toContain(
      `scripts/rollback.sh --env production --url ${world.worker.url} --version ${PREVIOUS} --reason 'production-deploy: gate after 10 % failed'\n`,
    );
    // The control Worker is rolled back only on purpose, by its own command.
    expect(run.stderr).toContain(
      `scripts/rollback.sh --plane control --env production --url ${world.worker.url} --version ${PREVIOUS}`,
    );
    expect(run.stdout).not.toContain('canary to 50 %');
    expect(await state()).toMatchObject({ state: 'aborted', percent: 0 });
    const audit = JSON.parse(await cli('audit', '--limit', '1', '--json')) as {
      entries: { action: string; actor: string }[];
    };
    expect(audit.entries[0]).toMatchObject({ action: 'abort', actor: 'guard' });
  });

  it('fails a gate without a fresh healthy verdict, and passes it with --allow-no-verdict and a warning', async () => {
    // A healthy verdict from a step that was then reset: the guard's last run predates the next
    // step, and the guard does not run again during it (as when the cron trigger stops).
    await metrics({
      canary: { requests: 5000, errors: 5, p95Ms: 300 },
      stable: { requests: 45_000, errors: 45 },
    });
    await cli('set', '10', '--reason', 'a step for the guard to judge');
    const last = await guardRun();
    expect(last.status).toBe('healthy');
    await cli('abort', '--reason', 'reset for the no-verdict run');
    const stale = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [...healthArgs, '--skip-tests', '--bake', '1', '--skip-flags', '--qa-confirmed'],
      { env: launchEnv({ clockAheadMinutes: 40 }) },
    );
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(
      `✘ gate after 10 % failed: the guard verdict (${last.at}) predates this step`,
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
        '--qa-confirmed',
      ],
      { env, timeoutMs: 60_000 },
    );
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain('passed with --allow-no-verdict');
    expect(await state()).toMatchObject({ state: 'promoted', percent: 100 });
  });

  it('with --max-error-rate, fails a gate whose healthy verdict shows a canary error rate above it', async () => {
    await cli('abort', '--reason', 'reset for the error-rate run');
    // 2.5 % on the canary is a bad day for both cohorts (stable 2.2 %), within the guard's margin
    // over stable: healthy for the guard, yet above the launch's own --max-error-rate.
    await metrics({
      canary: { requests: 4000, errors: 100, p95Ms: 300 },
      stable: { requests: 50_000, errors: 1100 },
    });
    const run = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [
        ...healthArgs,
        '--skip-tests',
        '--bake',
        '1',
        '--skip-flags',
        '--max-error-rate',
        '1',
        '--qa-confirmed',
      ],
      { env: launchEnv({ guardDuringBake: true }) },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('✘ gate after 10 % failed: canary error rate 2.5 % > 1 %');
    expect(await state()).toMatchObject({ state: 'ramping', percent: 10 });
  });

  it('fails a gate whose recent healthy verdict was judged on an older config version', async () => {
    await cli('abort', '--reason', 'reset for the older-version run');
    await cli('flag', 'templates', 'off', '--reason', 'so the write during the bake changes it');
    await metrics({
      canary: { requests: 5000, errors: 5, p95Ms: 300 },
      stable: { requests: 45_000, errors: 45 },
    });
    // The guard judges the step, then a flag changes before the gate reads the verdict.
    const run = await runWithWranglerStub(
      'scripts/production-deploy.sh',
      [...healthArgs, '--skip-tests', '--bake', '1', '--skip-flags', '--qa-confirmed'],
      { env: launchEnv({ guardDuringBake: true, writeAfterGuard: true }) },
    );
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const current = await state();
    expect(current).toMatchObject({ state: 'ramping', percent: 10 });
    expect(run.stderr).toContain(
      `✘ gate after 10 % failed: the guard verdict was judged on config v${current.version - 1}, not the current v${current.version}`,
    );
    expect(run.stdout).not.toContain('canary to 50 %');
  });
});
