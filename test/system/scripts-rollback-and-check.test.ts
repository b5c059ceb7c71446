import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localWorkerBehindEchoOrigins } from '../support/local-worker/wrangler-dev-behind-echo-origins';
import { runCli } from '../../cli/run-cli';
import { cohortStatsAnswer, fakeSqlApi, trafficSplitAnswer } from '../support/fake-sql-api/control';
import { startFakeSqlApi } from '../support/fake-sql-api/server';
import type { LoopbackServer } from '../support/loopback/loopback-server';
import { freePort } from '../support/local-worker/wrangler-dev';
import { runWithWranglerStub } from '../support/wrangler-stub/run-with-stub';

const TOKEN = 'rollback-script-token-0123456789';
const VERSION = '0a0a0a0a-1111-4222-8333-444444444444';
const ACCOUNT = '0123456789abcdef0123456789abcdef';
const SQL_TOKEN = 'rollback-script-analytics-read-token';

interface State {
  version: number;
  state: string;
  percent: number;
  kill: { canary: boolean; raw: string | null };
}

// One Worker for both scripts: wrangler dev takes seconds to start, and the daily check reads
// the state a rollback leaves. The guard is on, reading a stand-in SQL API on loopback, so the
// daily check judges verdicts the guard itself stored.
describe('scripts/rollback.sh and scripts/post-launch-check.sh with the real Worker', () => {
  let sqlApi: LoopbackServer;
  beforeAll(async () => {
    sqlApi = await startFakeSqlApi();
  });
  afterAll(async () => {
    await sqlApi?.close();
  });
  const world = localWorkerBehindEchoOrigins(
    { ADMIN_TOKEN: TOKEN, CF_ACCOUNT_ID: ACCOUNT, CF_API_TOKEN: SQL_TOKEN },
    { lateVars: () => ({ ANALYTICS_SQL_BASE_URL: `http://127.0.0.1:${sqlApi.port}` }) },
  );
  let env: Record<string, string>;

  beforeAll(async () => {
    env = { ROLLOUT_URL: world.worker.url, ROLLOUT_TOKEN: TOKEN };
    // A promoted canary taking all traffic with a healthy error rate and latency; no split to test.
    await fakeSqlApi(`http://127.0.0.1:${sqlApi.port}`).script(ACCOUNT, SQL_TOKEN, [
      { sqlIncludes: 'AS minute', answer: { json: trafficSplitAnswer([]) } },
      { answer: { json: cohortStatsAnswer({ canary: { requests: 5000, errors: 5, p95Ms: 300 } }) } },
    ]);
  });

  async function cli(...argv: string[]): Promise<string> {
    let out = '';
    const code = await runCli(argv, {
      env,
      stdout: (text) => (out += text),
      stderr: (text) => (out += text),
    });
    expect(code, out).toBe(0);
    return out;
  }
  const state = async () => JSON.parse(await cli('status', '--json')) as State;
  /**
   * One guard run by the Worker's own Cron Trigger handler, which stores its verdict in the
   * control plane, dated by the trigger (the moment of the call).
   */
  async function guardRun(): Promise<void> {
    const before = Date.now();
    await world.worker.runScheduled();
    const response = await fetch(`${world.worker.url}/__rollout/state`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const { guard } = (await response.json()) as { guard: { status: string; at: string } | null };
    expect(guard?.status, world.worker.output()).toBe('healthy');
    expect(Date.parse(guard!.at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(guard!.at)).toBeLessThanOrEqual(Date.now());
  }
  /**
   * Runs the daily check as if `minutesLater` minutes had passed since now (its Node clock
   * moved ahead): wrangler dev can fire the Cron Trigger only at the current time, so a verdict
   * is made old by checking it later, as happens when the cron trigger stops running.
   */
  const checkLater = (minutesLater: number): Record<string, string> => {
    const shift = `const n=Date.now;Date.now=()=>n()+${minutesLater * 60_000};`;
    const preload = `--import=data:text/javascript,${encodeURIComponent(shift)}`;
    return { NODE_OPTIONS: [process.env.NODE_OPTIONS, preload].filter(Boolean).join(' ') };
  };

  describe('rollback.sh', () => {
    it('--dry-run checks what the rollback needs, prints the three steps and changes nothing', async () => {
      await cli('set', '100');
      const before = await state();
      const run = await runWithWranglerStub('scripts/rollback.sh', ['--dry-run', '--version', VERSION], {
        env,
      });
      expect(run.code, run.stderr).toBe(0);
      // The one wrangler call is the read-only login check.
      expect(run.wranglerCalls).toEqual([['whoami']]);
      for (const line of [
        '✔ ROLLOUT_TOKEN is set',
        `✔ the admin API answers at ${world.worker.url}`,
        '✔ wrangler is logged in (wrangler whoami)',
      ])
        expect(run.stdout).toContain(line);
      expect(run.stdout).toContain('would run: npx rollout abort --reason rollback.sh');
      expect(run.stdout).toContain(
        'would run: wrangler kv key put --binding=ROLLOUT kill canary --remote --env production',
      );
      expect(run.stdout).toContain(
        `would run: wrangler rollback ${VERSION} --env production --message rollback.sh -y`,
      );
      expect(await state()).toEqual(before);
    });

    it('--dry-run reports each missing need (token, admin API, wrangler login) and exits 1, changing nothing', async () => {
      const before = await state();
      const { ROLLOUT_TOKEN: _token, ...noToken } = env;
      const down = `http://127.0.0.1:${await freePort()}`;
      const run = await runWithWranglerStub('scripts/rollback.sh', ['--dry-run', '--url', down], {
        env: { ...noToken, WRANGLER_STUB_LOGGED_OUT: '1' },
      });
      expect(run.code).toBe(1);
      expect(run.wranglerCalls).toEqual([['whoami']]);
      const failures = run.stderr.slice(run.stderr.indexOf('3 check(s) failed'));
      for (const failure of [
        '✘ ROLLOUT_TOKEN is not set: the real run refuses to start',
        `✘ the admin API at ${down} does not answer`,
        '✘ wrangler is not logged in (wrangler whoami)',
      ])
        expect(failures).toContain(failure);
      // The steps are still printed, so the dry run shows the whole rollback.
      expect(run.stdout).toContain('would run: npx rollout abort --reason rollback.sh');
      expect(await state()).toEqual(before);
    });

    it('aborts through the API, rolls the Worker back to the version, and verifies stable', async () => {
      expect((await fetch(`${world.worker.url}/`)).headers.get('x-rollout-cohort')).toBe('canary');
      const run = await runWithWranglerStub(
        'scripts/rollback.sh',
        ['--version', VERSION, '--reason', 'p95 above 2 s', '--verify-timeout', '10'],
        { env },
      );
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.wranglerCalls).toEqual([
        ['rollback', VERSION, '--env', 'production', '--message', 'p95 above 2 s', '-y'],
      ]);
      expect(run.stdout).toContain('✔ aborted through the admin API');
      expect(run.stdout).toContain('this does NOT revert KV or the control plane');
      expect(run.stdout).toContain('✔ status: aborted at 0 %');
      expect(run.stdout).toContain('✔ 5 of 5 fresh requests to / answered x-rollout-cohort: stable');
      expect(await state()).toMatchObject({ state: 'aborted', percent: 0 });
      const audit = JSON.parse(await cli('audit', '--limit', '1', '--json')) as { entries: object[] };
      expect(audit.entries[0]).toMatchObject({
        action: 'abort',
        actor: 'admin (rollback.sh)',
        reason: 'p95 above 2 s',
      });
    });

    it('fails (exit 1) when wrangler rollback fails, after still stopping the canary', async () => {
      await cli('set', '20');
      const run = await runWithWranglerStub('scripts/rollback.sh', ['--verify-timeout', '5'], {
        env: { ...env, WRANGLER_STUB_FAIL: 'rollback' },
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('✘ wrangler rollback failed');
      expect(run.stderr).toContain('Rollback incomplete: Worker rollback failed.');
      expect(run.stdout).not.toContain('worker/control/wrangler.toml');
      expect(await state()).toMatchObject({ state: 'aborted', percent: 0 });
    });

    it('falls back to the KV kill switch when the API is unreachable, keeping flag kills, and exits 1 as it cannot verify', async () => {
      const down = `http://127.0.0.1:${await freePort()}`;
      const run = await runWithWranglerStub(
        'scripts/rollback.sh',
        ['--url', down, '--env', 'staging', '--skip-worker-rollback', '--verify-timeout', '1'],
        { env: { ...env, WRANGLER_STUB_KILL_VALUE: 'flag:emailDelivery' } },
      );
      expect(run.code).toBe(1);
      expect(run.wranglerCalls).toEqual([
        ['kv', 'key', 'get', '--binding=ROLLOUT', 'kill', '--remote', '--env', 'staging'],
        [
          'kv',
          'key',
          'put',
          '--binding=ROLLOUT',
          'kill',
          'canary flag:emailDelivery',
          '--remote',
          '--env',
          'staging',
        ],
      ]);
      expect(run.stdout).toContain('✔ kill switch set in KV: "canary flag:emailDelivery"');
      expect(run.stdout).toContain('✘ status: status unreadable: error: cannot reach the admin API');
    });

    it('--plane control rolls back the control Worker alone, says what it leaves, and verifies the admin API', async () => {
      const before = await state();
      const dry = await runWithWranglerStub(
        'scripts/rollback.sh',
        ['--plane', 'control', '--dry-run', '--version', VERSION],
        { env },
      );
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.wranglerCalls).toEqual([['whoami']]);
      expect(dry.stdout).toContain(
        `would run: wrangler rollback ${VERSION} --env production --config ${process.cwd()}/worker/control/wrangler.toml --message rollback.sh -y`,
      );
      const run = await runWithWranglerStub(
        'scripts/rollback.sh',
        ['--plane', 'control', '--version', VERSION, '--reason', 'cockpit bug', '--verify-timeout', '10'],
        { env },
      );
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.wranglerCalls).toEqual([
        [
          'rollback',
          VERSION,
          '--env',
          'production',
          '--config',
          `${process.cwd()}/worker/control/wrangler.toml`,
          '--message',
          'cockpit bug',
          '-y',
        ],
      ]);
      expect(run.stdout).toContain(
        'Visitors, the edge Worker and the rollout state (config, flags, audit, kill) are not changed.',
      );
      expect(run.stdout).toContain('✔ the admin API answers');
      // The canary was not touched: a control-plane rollback is not an abort.
      expect(await state()).toEqual(before);
      const refused = await runWithWranglerStub('scripts/rollback.sh', ['--plane', 'control'], {
        env: { ...env, WRANGLER_STUB_FAIL: 'rollback' },
      });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain('✘ wrangler rollback of the control Worker failed');
    });

    it('refuses bad arguments with exit 2', async () => {
      for (const args of [
        ['--plane', 'both'],
        ['--version', 'not a version'],
        ['--verify-timeout', 'soon'],
        ['--reason'],
        ['--check-path', 'x'],
      ]) {
        const run = await runWithWranglerStub('scripts/rollback.sh', args, { env });
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(/^error: .+\nusage: scripts\/rollback.sh/);
        expect(run.wranglerCalls).toEqual([]);
      }
    });
  });

  describe('post-launch-check.sh', () => {
    it('fails with ✘ lines for an aborted rollout without a guard verdict', async () => {
      const run = await runWithWranglerStub('scripts/post-launch-check.sh', [], { env });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('✔ health endpoint answers');
      expect(run.stdout).toContain('✘ rollout state is aborted');
      expect(run.stdout).toContain('✘ canary percent is 0 % (expected 100 %)');
      expect(run.stdout).toContain('✘ guard verdict: none yet (is the cron trigger running?)');
      expect(run.stdout).toContain('✔ kill switch is off');
      // The listing holds the rollbacks' aborts (a later abort by hand may come first).
      expect(run.stdout).toMatch(
        /✔ audit log: \d+ entries in the last 24h\n(?: {4}.+\n)* {4}\S+Z {2}admin \(rollback\.sh\) {2}abort {2}v\d+/,
      );
      expect(run.stdout).toContain('3 check(s) failed.');
    });

    it('passes every check once promoted with a fresh healthy verdict, listing the day’s audit entries', async () => {
      await cli('set', '100');
      await cli('promote', '--reason', 'launch day');
      await guardRun();
      const run = await runWithWranglerStub('scripts/post-launch-check.sh', ['--since', '1h'], { env });
      expect(run.code, run.stdout).toBe(0);
      expect(run.stdout.match(/^✔ /gm)).toHaveLength(6);
      expect(run.stdout).toContain('✔ guard verdict is healthy (0 min ago)');
      expect(run.stdout).toMatch(/ {4}\S+Z {2}admin {2}promote {2}v\d+ {2}"launch day"\n/);
      expect(run.stdout).toContain('All checks passed.');
    });

    it('fails on a stale verdict, a killed flag and an unexpected percent', async () => {
      await guardRun();
      await cli('kill', 'flag:templates');
      const run = await runWithWranglerStub('scripts/post-launch-check.sh', ['--expect-percent', '50'], {
        env: { ...env, ...checkLater(40) },
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('✘ canary percent is 100 % (expected 50 %)');
      expect(run.stdout).toContain(
        '✘ guard verdict is healthy but 40 min old (is the cron trigger running?)',
      );
      expect(run.stdout).toContain('✘ kill switch is ON: flag templates');
      expect(run.stdout).toContain('3 check(s) failed.');
      await cli('kill', 'off');
    });

    it('fails on a recent healthy verdict judged on an older config version, and passes once the guard judged the current one', async () => {
      // The kill and unkill above each wrote a version after the guard's last run.
      const run = await runWithWranglerStub('scripts/post-launch-check.sh', [], { env });
      expect(run.code, run.stdout).toBe(1);
      const { version } = await state();
      expect(run.stdout).toContain(
        `✘ guard verdict is healthy but was judged on config v${version - 2}, not the current v${version} (check again after the next guard run)`,
      );
      expect(run.stdout).toContain('1 check(s) failed.');

      await guardRun();
      const again = await runWithWranglerStub('scripts/post-launch-check.sh', [], { env });
      expect(again.code, again.stdout).toBe(0);
      expect(again.stdout).toContain('✔ guard verdict is healthy (0 min ago)');
    });

    it('passes after a finalize, when the guard has no live canary to judge, despite an old verdict', async () => {
      await guardRun();
      await cli('finalize', '--reason', 'day-7 review passed');
      const run = await runWithWranglerStub('scripts/post-launch-check.sh', [], {
        env: { ...env, ...checkLater(600) },
      });
      expect(run.code, run.stdout).toBe(0);
      expect(run.stdout).toContain('✔ canary percent is 0 % (expected 0 %)');
      expect(run.stdout).toContain('✔ guard idle: no live canary (rollout finalized)');
    });

    it('--dry-run lists the checks without querying or needing a token', async () => {
      const down = `http://127.0.0.1:${await freePort()}`;
      const run = await runWithWranglerStub('scripts/post-launch-check.sh', ['--dry-run', '--url', down], {
        env: { ROLLOUT_TOKEN: '' },
      });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('DRY RUN: nothing is queried.');
      expect(run.stdout).not.toMatch(/[✔✘]/);
    });

    it('refuses bad arguments with exit 2', async () => {
      for (const args of [['--expect-percent', '101'], ['--since', 'yesterday'], ['--bogus']]) {
        const run = await runWithWranglerStub('scripts/post-launch-check.sh', args, { env });
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(/^error: /);
      }
    });
  });

  // After the finalize above: the release a migration record belongs to may be finalized.
  describe('the migration record production-deploy.sh --migrate leaves', () => {
    let stateDir: string;
    beforeAll(() => {
      stateDir = mkdtempSync(join(tmpdir(), 'rollback-launch-state-'));
    });
    afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
    const record = () => join(stateDir, 'production.migration');
    const recordMigration = (startedMs: number) =>
      writeFileSync(
        record(),
        `migration started ${new Date(startedMs).toISOString().replace(/\.\d{3}Z$/, 'Z')} (production-deploy, env production)\n`,
      );
    const rollback = (...args: string[]) =>
      runWithWranglerStub('scripts/rollback.sh', args, { env: { ...env, LAUNCH_STATE_DIR: stateDir } });

    it('is cleared by a rollback once the release that carried the migration was finalized, and the reminder stops', async () => {
      // The migration started an hour ago; the launch's release was finalized since.
      recordMigration(Date.now() - 3_600_000);
      const run = await rollback('--skip-worker-rollback', '--verify-timeout', '10');
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(
        /The release that carried the database migration \(started \S+Z\) was finalized at \S+Z/,
      );
      expect(run.stdout).not.toContain('A database migration was recorded');
      expect(existsSync(record())).toBe(false);
    });

    it('stays, with its reminder, while no finalize followed the migration, until the operator clears it', async () => {
      // A migration that started after the last finalize: its release has not been finalized.
      recordMigration(Math.ceil(Date.now() / 1000) * 1000 + 1000);
      const run = await rollback('--skip-worker-rollback', '--verify-timeout', '10');
      expect(run.stdout).toContain('A database migration was recorded for this launch (migration started');
      expect(run.stdout).toContain('scripts/rollback.sh --env production --clear-migration-record');
      expect(existsSync(record())).toBe(true);

      const dry = await rollback('--clear-migration-record', '--dry-run');
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain('DRY RUN: would clear the migration record for env production');
      expect(existsSync(record())).toBe(true);

      const cleared = await rollback('--clear-migration-record');
      expect(cleared.code, cleared.stderr).toBe(0);
      expect(cleared.stdout).toContain('Cleared the migration record for env production: migration started');
      expect(cleared.wranglerCalls).toEqual([]);
      expect(existsSync(record())).toBe(false);
      const after = await rollback('--dry-run');
      expect(after.stdout).not.toContain('A database migration was recorded');
    });
  });
});
