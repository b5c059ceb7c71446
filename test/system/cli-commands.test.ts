import { execFile, spawn } from 'node:child_process';
import { localWorkerBehindEchoOrigins } from '../support/local-worker/wrangler-dev-behind-echo-origins';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/run-cli';
import { runFeatureFlags } from '../../scripts/feature-flags';
import { freePort } from '../support/local-worker/wrangler-dev';

const TOKEN = 'cli-system-token-0123456789abcdef';
const execFileAsync = promisify(execFile);

describe('npx rollout against the real Worker (wrangler dev)', () => {
  const world = localWorkerBehindEchoOrigins({
    ADMIN_TOKEN: TOKEN,
    // The kill switch reaches requests after the config cache time; 1 s keeps the test short.
    CONFIG_CACHE_SECONDS: '1',
  });

  // In-process: the same code as the binary, without a Node start per command.
  async function cli(argv: string[], env: Record<string, string> = {}) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      env: { ROLLOUT_URL: world.worker.url, ROLLOUT_TOKEN: TOKEN, ...env },
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
    });
    return { code, stdout, stderr };
  }

  async function state() {
    const { code, stdout } = await cli(['status', '--json']);
    expect(code).toBe(0);
    return JSON.parse(stdout) as {
      version: number;
      state: string;
      percent: number;
      kill: { canary: boolean; flags: string[]; raw: string | null };
      config: { flags: Record<string, { enabled: boolean; percent: number }> };
    };
  }

  // A fresh visitor's cohort, asked every 250 ms until it is `expected` or `ms` have passed.
  async function cohortWithin(ms: number, expected: string): Promise<string | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const cohort = (await fetch(`${world.worker.url}/page`)).headers.get('x-rollout-cohort');
      if (cohort === expected || Date.now() > deadline) return cohort;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  it('the installed binary answers health and status, and exits with the CLI’s codes', async () => {
    const env = { ...process.env, ROLLOUT_URL: world.worker.url, ROLLOUT_TOKEN: TOKEN };
    const health = await execFileAsync('node', ['bin/rollout.mjs', 'health'], { env });
    expect(health.stdout).toBe('The admin API is up.\n');
    const status = await execFileAsync('node', ['bin/rollout.mjs', 'status'], { env });
    expect(status.stdout).toMatch(
      /^State {5}idle\nPercent {3}0 %\nVersion {3}0 \(config from safe-default\)\nReplica {3}in step \(KV holds version 0\)\nKill {6}off\n/,
    );
    expect(status.stdout).toContain('Guard     no verdict yet');
    await expect(execFileAsync('node', ['bin/rollout.mjs', 'set', '150'], { env })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('percent must be at most 100'),
    });
  });

  it('walks the lifecycle: set, pause, resume, promote, finalize, a new ramp, abort, undo', async () => {
    const steps: [string[], RegExp, string, number][] = [
      [
        ['set', '10', '--reason', 'step 1'],
        /^Canary at 10 %: state ramping, config version 1\.\n$/,
        'ramping',
        10,
      ],
      [['pause'], /^Paused: state paused, canary at 10 %, config version 2\.\n$/, 'paused', 10],
      [['resume'], /^Resumed: state ramping, canary at 10 %, config version 3\.\n$/, 'ramping', 10],
      [['set', '12.5'], /^Canary at 12\.5 %: state ramping/, 'ramping', 12.5],
      [['promote'], /^Promoted: state promoted, canary at 100 %/, 'promoted', 100],
      [['finalize'], /^Finalized: state finalized, canary at 0 %/, 'finalized', 0],
      [['set', '5'], /^Canary at 5 %: state ramping/, 'ramping', 5],
      [['abort', '--reason', 'drill'], /^Aborted: state aborted, canary at 0 %/, 'aborted', 0],
      [['undo'], /^Restored the previous version: state ramping, canary at 5 %/, 'ramping', 5],
    ];
    for (const [argv, output, expectedState, percent] of steps) {
      const { code, stdout, stderr } = await cli(argv);
      expect({ argv, code, stderr }).toEqual({ argv, code: 0, stderr: '' });
      expect(stdout).toMatch(output);
      expect(await state()).toMatchObject({ state: expectedState, percent });
    }
  });

  it('turns flags on at a percent and off, and shows them in status', async () => {
    expect((await cli(['flag', 'emailDelivery', 'on', '--percent', '25'])).stdout).toMatch(
      /^Flag emailDelivery on for 25 % of visitors \(config version \d+\)\.\n$/,
    );
    expect((await state()).config.flags.emailDelivery).toMatchObject({ enabled: true, percent: 25 });
    expect((await cli(['flag', 'templates', 'on'])).code).toBe(0);
    expect((await cli(['flag', 'templates', 'off'])).stdout).toMatch(/^Flag templates off/);
    const { stdout } = await cli(['status']);
    expect(stdout).toMatch(/emailDelivery\s+on\s+25 %\s+off\s+-/);
    expect(stdout).toMatch(/templates\s+off\s+100 %\s+off\s+-/);
  });

  it('kills the canary and a flag cumulatively, sends visitors to stable, then lifts the kill', async () => {
    expect((await cli(['set', '100'])).code).toBe(0);
    expect((await cli(['kill', 'flag:emailDelivery'])).code).toBe(0);
    const killed = await cli(['kill', 'canary', '--reason', 'drill']);
    expect(killed.stdout).toContain(
      'Kill switch ON: canary stopped (everyone on stable); flags forced off: emailDelivery',
    );
    expect((await state()).kill).toMatchObject({
      canary: true,
      flags: ['emailDelivery'],
      raw: 'canary flag:emailDelivery',
    });
    expect(await cohortWithin(5000, 'stable')).toBe('stable');
    expect((await cli(['status'])).stdout).toMatch(/emailDelivery\s+on\s+25 %\s+off\s+KILLED/);

    expect((await cli(['kill', 'off'])).stdout).toContain('Kill switch off');
    expect((await state()).kill).toMatchObject({ canary: false, flags: [], raw: null });
    expect(await cohortWithin(5000, 'canary')).toBe('canary');
  });

  it('prints machine-readable JSON with --json for writes, status and audit', async () => {
    // From 100 % (the kill test above) this is a ramp-down: a script confirms it with --yes.
    const written = await cli(['set', '20', '--json', '--yes']);
    const body = JSON.parse(written.stdout) as { version: number; config: { rollout: { percent: number } } };
    expect(body.config.rollout.percent).toBe(20);
    expect((await state()).version).toBe(body.version);
    const audit = JSON.parse(
      (await cli(['audit', '--limit', '3', '--json', '--actor', 'ignored-for-reads'])).stdout,
    ) as {
      entries: { action: string; version: number }[];
      cursor: string | null;
    };
    expect(audit.entries).toHaveLength(3);
    expect(audit.entries[0]).toMatchObject({ action: 'set-percent', version: body.version });
    expect(typeof audit.cursor).toBe('string');
  });

  it('records the actor and the reason in the audit log, shown newest first', async () => {
    expect((await cli(['pause', '--actor', 'alice', '--reason', 'holding for review'])).code).toBe(0);
    expect((await cli(['resume', '--actor', 'alice'])).code).toBe(0);
    const { code, stdout } = await cli(['audit', '--limit', '2']);
    expect(code).toBe(0);
    const [header, newest, older] = stdout.trim().split('\n');
    expect(header).toMatch(/^at\s+actor\s+action\s+version\s+change\s+reason$/);
    expect(newest).toMatch(/admin \(alice\)\s+resume\s+\d+\s+paused → ramping$/);
    expect(older).toMatch(/admin \(alice\)\s+pause\s+\d+\s+ramping → paused\s+holding for review$/);
    expect(stdout).toContain('More entries: npx rollout audit --cursor ');
  });

  it('rejects an invalid argument with exit 2 and a message, and changes nothing', async () => {
    const before = await state();
    for (const argv of [
      ['set', '12.345'],
      ['flag', '1bad', 'on'],
      ['kill', 'everything'],
      ['audit', '--limit', '0'],
    ]) {
      const { code, stdout, stderr } = await cli(argv);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^error: .+\nusage: npx rollout /);
    }
    expect(await state()).toEqual(before);
  });

  it('answers an illegal transition with exit 1 and the API’s reason, changing nothing', async () => {
    const before = await state();
    const { code, stderr } = await cli(['finalize']);
    expect(code).toBe(1);
    expect(stderr).toBe(
      'error: POST /__rollout/finalize answered 409: cannot finalize: the rollout is ramping (only a promoted rollout can be finalized)\n',
    );
    expect((await state()).version).toBe(before.version);
  });

  it('answers a wrong token with exit 1 and the API’s error, never printing either token', async () => {
    const before = await state();
    const wrong = 'not-the-token-987654321';
    const { code, stdout, stderr } = await cli(['set', '50'], { ROLLOUT_TOKEN: wrong });
    expect(code).toBe(1);
    // Without a terminal, set reads the state first (a ramp-down needs --yes): that read is refused.
    // A development run also says where the token comes from (issue 25: the dev hint).
    expect(stderr).toMatch(/^error: GET \/__rollout\/state answered 401: unauthorized\n  development: /);
    expect(stdout + stderr).not.toContain(wrong);
    expect(stdout + stderr).not.toContain(TOKEN);
    expect((await state()).version).toBe(before.version);
  });

  it('prints the KV fallback and exits 3 when the Worker cannot be reached', async () => {
    const { code, stderr } = await cli(['kill', 'canary', '--env', 'production'], {
      ROLLOUT_URL: `http://127.0.0.1:${await freePort()}`,
    });
    expect(code).toBe(3);
    expect(stderr).toContain(
      'npx wrangler kv key put --binding=ROLLOUT kill "canary" --remote --env production',
    );
  });

  it('refuses a typo in a flag name with the known flags, and creates a flag only with --create', async () => {
    const before = await state();
    const typo = await cli(['flag', 'fileStorag', 'on']);
    expect(typo.code).toBe(1);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toContain('flag "fileStorag" is not in the config (known: ');
    expect(typo.stderr).toContain('fileStorage');
    expect(typo.stderr).toContain('To add it: npx rollout flag fileStorag on --create');
    expect(await state()).toEqual(before);

    const created = await cli(['flag', 'invoiceExport', 'on', '--percent', '5', '--create']);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toMatch(/^Flag invoiceExport on for 5 % of visitors \(config version \d+\)\.\n$/);
    expect((await state()).config.flags.invoiceExport).toMatchObject({ enabled: true, percent: 5 });
  });

  it('says "no change" for a write that changes nothing, keeping version and audit', async () => {
    expect((await cli(['set', '40', '--yes'])).code).toBe(0);
    expect((await cli(['flag', 'fileStorage', 'on', '--percent', '30'])).code).toBe(0);
    const before = await state();
    const audit = (await cli(['audit', '--limit', '1', '--json'])).stdout;
    const same = await cli(['set', '40']);
    expect(same.stdout).toBe(
      `No change: that is already in force (state ramping, canary at 40 %, config version ${before.version}).\n`,
    );
    expect((await cli(['flag', 'fileStorage', 'on', '--percent', '30'])).stdout).toMatch(/^No change: /);
    expect((await state()).version).toBe(before.version);
    expect((await cli(['audit', '--limit', '1', '--json'])).stdout).toBe(audit);
  });

  it('feature-flags.ts creates its flags explicitly, and a phase run again changes nothing', async () => {
    let out = '';
    const io = {
      env: { ROLLOUT_URL: world.worker.url, ROLLOUT_TOKEN: TOKEN },
      stdout: (t: string) => (out += t),
      stderr: (t: string) => (out += t),
    };
    expect(await runFeatureFlags(['--phase', '3'], io)).toBe(0);
    const version = (await state()).version;
    out = '';
    expect(await runFeatureFlags(['--phase', '3'], io)).toBe(0);
    expect(out).toContain(
      `✔ emailDelivery already on (as its rules say): no change (config version ${version})`,
    );
    expect((await state()).version).toBe(version);
  });

  it('ramping down says what it moves: refused without a terminal, asked on one, sent with --yes', async () => {
    expect((await cli(['set', '50', '--yes'])).code).toBe(0);
    const before = await state();
    const script = await cli(['set', '30']);
    expect(script).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'error: set 30 moves 20 % of visitors from canary back to stable (canary 50 % → 30 %).\n' +
        'Nothing was sent. Confirm it on a terminal, or pass --yes to confirm it in advance.\n',
    });
    expect((await state()).version).toBe(before.version);

    // On a terminal: the preview of the real API, then the question; "n" sends nothing.
    let stderr = '';
    const asked: string[] = [];
    const terminal = (answer: string) => ({
      env: { ROLLOUT_URL: world.worker.url, ROLLOUT_TOKEN: TOKEN },
      stdout: () => {},
      stderr: (text: string) => (stderr += text),
      interactive: true,
      ask: async (question: string) => (asked.push(question), answer),
    });
    expect(await runCli(['set', '30'], terminal('n'))).toBe(4);
    expect(stderr).toContain('20 % of visitors move from canary to stable');
    expect(asked).toEqual(['Send this change? [y/N] ']);
    expect((await state()).version).toBe(before.version);
    expect(await runCli(['set', '30'], terminal('y'))).toBe(0);
    expect(await state()).toMatchObject({ percent: 30, version: before.version + 1 });

    expect((await cli(['set', '20', '--yes'])).code).toBe(0);
    expect((await state()).percent).toBe(20);
  });

  it('exits quietly when the reader of its output goes away (npx rollout status | head -3)', async () => {
    const env = { ...process.env, ROLLOUT_URL: world.worker.url, ROLLOUT_TOKEN: TOKEN };
    // The pipe is closed before the CLI writes: every write fails with EPIPE.
    const child = spawn('node', ['bin/rollout.mjs', 'status'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });

    const piped = await execFileAsync('bash', ['-c', 'node bin/rollout.mjs status | head -3'], { env });
    expect(piped.stdout.split('\n')[0]).toMatch(/^State /);
    expect(piped.stderr).toBe('');
  });

  it('prints the KV fallback for the environment named, or says it must be named', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const unnamed = await cli(['abort'], { ROLLOUT_URL: down });
    expect(unnamed.code).toBe(3);
    expect(unnamed.stderr).toContain(
      'npx wrangler kv key put --binding=ROLLOUT kill "canary" --remote --env <environment>',
    );
    expect(unnamed.stderr).toContain('Set ROLLOUT_ENV (or pass --env)');
    const named = await cli(['abort'], { ROLLOUT_URL: down, ROLLOUT_ENV: 'staging' });
    expect(named.stderr).toContain(
      'npx wrangler kv key put --binding=ROLLOUT kill "canary" --remote --env staging',
    );
    expect(named.stderr).not.toContain('<environment>');
  });

  it('refuses a write confirmed on a stale preview (If-Match, 412): the change made in between stays, and the CLI says so', async () => {
    expect((await cli(['set', '10', '--yes'])).code).toBe(0);
    const before = await state();
    let stderr = '';
    let stdout = '';
    const code = await runCli(['set', '40'], {
      env: { ROLLOUT_URL: world.worker.url, ROLLOUT_TOKEN: TOKEN },
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
      interactive: true,
      ask: async () => {
        // Someone else ramps while the question is on the screen.
        expect((await cli(['set', '20', '--yes'])).code).toBe(0);
        return 'y';
      },
    });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`Preview: version ${before.version} → ${before.version + 1}.`);
    expect(stderr).toContain(
      `PUT /__rollout/percent answered 412: If-Match ${before.version} is not the current version ${before.version + 1}`,
    );
    expect(stderr).toContain(
      `The rollout changed since the preview (computed on version ${before.version}): nothing was written.`,
    );
    expect(await state()).toMatchObject({ percent: 20, version: before.version + 1 });
  });
});
