import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closestNames, editDistance, unknownFlagHint, unknownNameMessage } from '../../cli/did-you-mean';
import { EXIT_CODES } from '../../cli/errors';
import { currentVersion, judgeGate, type GateStatus } from '../../cli/gate';
import {
  declaredSecrets,
  findPlaceholders,
  readSecretsExample,
  readSecretsFile,
  runPreflight,
  secretListNames,
  secretsToPush,
  type RunWrangler,
} from '../../cli/preflight';
import { parseCommandLine } from '../../cli/command-line';
import { UsageError } from '../../cli/errors';
import { runCli } from '../../cli/run-cli';
import { RolloutConfigSchema } from '../../src/config/config-schema';

const dir = mkdtempSync(join(tmpdir(), 'cli-launch-commands-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('did you mean', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['emailDelivry', 'emailDelivery', 1],
    ['templates', 'tempaltes', 2],
    ['kitten', 'sitting', 3],
  ])('edit distance of %j and %j is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });

  it('suggests the closest known names, and nothing when none is close', () => {
    const known = ['fileStorage', 'templates', 'emailDelivery', 'analytics'];
    expect(closestNames('emailDelivry', known)).toEqual(['emailDelivery']);
    expect(closestNames('Templates', known)).toEqual(['templates']);
    expect(closestNames('invoiceExport', known)).toEqual([]);
    expect(unknownNameMessage('flag', 'analytic', known)).toBe(
      'unknown flag "analytic": did you mean analytics? (known: fileStorage, templates, emailDelivery, analytics)',
    );
    expect(unknownNameMessage('flag', 'zzz', [])).toBe('unknown flag "zzz" (known: none)');
  });

  it("reads the admin API's unknown-flag refusal and suggests the fix", () => {
    const refusal = {
      message: 'PUT /__rollout/flags/emailDelivry answered 400: unknown flag',
      issues: [
        'flag "emailDelivry" is not in the config (known: fileStorage, emailDelivery); send "create": true to add it',
      ],
    };
    expect(unknownFlagHint(refusal)).toBe('Did you mean emailDelivery?');
    expect(unknownFlagHint({ message: 'answered 400: invalid config', issues: [] })).toBeUndefined();
  });

  it('the flag command answers a typo with the closest flag and creates nothing', async () => {
    const sent: string[] = [];
    const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      sent.push(`${init?.method} ${new URL(String(input)).pathname} ${String(init?.body)}`);
      return Response.json(
        {
          error: 'unknown flag',
          issues: [
            'flag "emailDelivry" is not in the config (known: templates, emailDelivery); send "create": true to add it',
          ],
        },
        { status: 400 },
      );
    }) as typeof globalThis.fetch;
    let stderr = '';
    const code = await runCli(['flag', 'emailDelivry', 'on'], {
      env: { ROLLOUT_URL: 'http://127.0.0.1:9', ROLLOUT_TOKEN: 'tok-12345' },
      stdout: () => {},
      stderr: (text) => (stderr += text),
      fetch,
    });
    expect(code).toBe(EXIT_CODES.api);
    expect(stderr).toContain('Did you mean emailDelivery?');
    expect(sent).toEqual(['PUT /__rollout/flags/emailDelivry {"enabled":true}']);
  });
});

describe('preflight', () => {
  const toml = [
    'name = "edge"',
    '[secrets]',
    'required = ["ADMIN_TOKEN", "OVERRIDE_SECRET"]',
    '[env.staging]',
    'route = "REPLACE_WITH_STAGING_HOST"',
    '[env.production]',
    '# id = "REPLACE_WITH_COMMENTED"',
    'route = "app.example.com"',
    '[[env.production.kv_namespaces]]',
    'binding = "ROLLOUT"',
    'id = "REPLACE_WITH_PRODUCTION_KV_NAMESPACE_ID"',
    '[env.productionish]',
    'id = "REPLACE_WITH_OTHER"',
  ].join('\n');

  it("finds the placeholders of the environment's own tables only, by line, skipping comments", () => {
    expect(findPlaceholders(toml, 'production')).toEqual([
      { line: 11, text: 'id = "REPLACE_WITH_PRODUCTION_KV_NAMESPACE_ID"' },
    ]);
    expect(findPlaceholders(toml, 'staging')).toEqual([
      { line: 5, text: 'route = "REPLACE_WITH_STAGING_HOST"' },
    ]);
    expect(findPlaceholders(toml, 'dev')).toEqual([]);
  });

  it("finds the repository's own production KV placeholders in both Workers' configs", () => {
    for (const path of ['wrangler.toml', 'worker/control/wrangler.toml'])
      expect(findPlaceholders(readFileSync(path, 'utf8'), 'production').map((p) => p.text)).toContain(
        'id = "REPLACE_WITH_PRODUCTION_KV_NAMESPACE_ID"',
      );
  });

  it('reads the declared secrets, the example, and the secrets file by name', () => {
    expect(declaredSecrets(toml)).toEqual(['ADMIN_TOKEN', 'OVERRIDE_SECRET']);
    expect(declaredSecrets('name = "x"')).toEqual([]);
    const example = readSecretsExample(
      [
        '# [required] the token,',
        '# over two lines',
        'ADMIN_TOKEN=',
        '',
        'SENTRY_DSN=',
        '# [required]',
        'OVERRIDE_SECRET=',
      ].join('\n'),
    );
    expect(example).toEqual({
      known: ['ADMIN_TOKEN', 'SENTRY_DSN', 'OVERRIDE_SECRET'],
      required: ['ADMIN_TOKEN', 'OVERRIDE_SECRET'],
    });
    const secrets = readSecretsFile(
      [
        '# comment',
        'export ADMIN_TOKEN="quoted # not a comment"',
        "OVERRIDE_SECRET='single' ",
        'SENTRY_DSN=',
        'TYPO_NAME=x',
        'not an assignment',
        'SENTRY_DSN=https://dsn.example # trailing comment',
      ].join('\n'),
      example.known,
    );
    expect(secrets).toEqual({
      push: ['ADMIN_TOKEN', 'OVERRIDE_SECRET', 'SENTRY_DSN'],
      values: {
        ADMIN_TOKEN: 'quoted # not a comment',
        OVERRIDE_SECRET: 'single',
        SENTRY_DSN: 'https://dsn.example',
      },
      empty: ['SENTRY_DSN'],
      unknown: ['TYPO_NAME'],
      bad: [6],
    });
  });

  it('reads wrangler secret list after a banner, and nothing from garbage', () => {
    expect(secretListNames('⛅️ wrangler 4.86\n[{"name":"ADMIN_TOKEN","type":"secret_text"}]')).toEqual([
      'ADMIN_TOKEN',
    ]);
    expect(secretListNames('error: not logged in')).toBeUndefined();
  });

  const example = file(
    'example',
    '# [required]\nADMIN_TOKEN=\n# [required]\nOVERRIDE_SECRET=\nSENTRY_DSN=\n',
  );
  const edge = file(
    'edge.toml',
    '[secrets]\nrequired = ["OVERRIDE_SECRET", "SENTRY_DSN"]\n[env.production]\nname = "x"\n',
  );
  const control = file(
    'control.toml',
    '[secrets]\nrequired = ["ADMIN_TOKEN", "OVERRIDE_SECRET"]\n[[env.production.kv_namespaces]]\nid = "REPLACE_WITH_ID"\n',
  );
  const secrets = file(
    'env',
    'OVERRIDE_SECRET=override-value-never-shown\nSENTRY_DSN=dsn-value-never-shown\n',
  );
  const files = {
    env: 'production',
    edgeConfig: edge,
    defaultEdgeConfig: 'unused',
    controlConfig: control,
    secretsFile: secrets,
    secretsExample: example,
  };

  it("checks each Worker against its own declared secrets and wrangler's list, printing names only", async () => {
    const calls: (readonly string[])[] = [];
    const wrangler: RunWrangler = async (args) => {
      calls.push(args);
      // The control Worker has ADMIN_TOKEN already; the edge has nothing yet.
      return { code: 0, stdout: args.includes(control) ? '[{"name":"ADMIN_TOKEN"}]' : '[]' };
    };
    const report = await runPreflight(files, wrangler);
    expect(calls).toEqual([
      ['secret', 'list', '--env', 'production', '--config', edge],
      ['secret', 'list', '--env', 'production', '--config', control],
    ]);
    expect(report.failures).toEqual([
      'the control wrangler config still has REPLACE_WITH… placeholders for env production (create the namespace and put its id there: docs/LAUNCH-RUNBOOK.md)',
    ]);
    expect(report.lines).toContain('       line 4: id = "REPLACE_WITH_ID"');
    expect(report.lines).toContain('     in the file: OVERRIDE_SECRET SENTRY_DSN');
    expect(report.lines).toContain(
      '     ✔ every required secret of the edge Worker is set or in the file: OVERRIDE_SECRET',
    );
    expect(report.lines).toContain(
      '     ✔ every required secret of the control Worker is set or in the file: ADMIN_TOKEN OVERRIDE_SECRET',
    );
    expect(report.lines.join('\n')).not.toContain('never-shown');
  });

  it('names each missing required secret per Worker, and a failing secret list', async () => {
    const report = await runPreflight({ ...files, secretsFile: join(dir, 'absent') }, async (args) =>
      args.includes(control) ? { code: 1, stdout: '' } : { code: 0, stdout: '[]' },
    );
    expect(report.failures.slice(1)).toEqual([
      `required secret(s) of the edge Worker missing from both ${join(dir, 'absent')} and its wrangler secret list: OVERRIDE_SECRET`,
      'wrangler secret list of the control Worker failed (logged in? the Worker deployed once?)',
    ]);
    expect(report.lines).toContain('     no secrets file: only the secrets already set count');
  });

  it('gives each Worker the values its config declares, in file order', () => {
    expect(secretsToPush(files, 'edge')).toEqual({
      names: ['OVERRIDE_SECRET', 'SENTRY_DSN'],
      values: { OVERRIDE_SECRET: 'override-value-never-shown', SENTRY_DSN: 'dsn-value-never-shown' },
    });
    expect(secretsToPush(files, 'control').names).toEqual(['OVERRIDE_SECRET']);
    expect(secretsToPush(files).names).toEqual(['OVERRIDE_SECRET', 'SENTRY_DSN']);
  });

  it('secrets-bulk prints the values unscrubbed, even when a value is the admin token itself', async () => {
    const token = 'the-admin-token-0123456789';
    const withToken = file('env-token', `ADMIN_TOKEN=${token}\n`);
    let stdout = '';
    const code = await runCli(
      [
        'secrets-bulk',
        '--plane',
        'control',
        '--config',
        edge,
        '--control-config',
        control,
        '--secrets-file',
        withToken,
        '--secrets-example',
        example,
      ],
      { env: { ROLLOUT_TOKEN: token }, stdout: (text) => (stdout += text), stderr: () => {} },
    );
    expect(code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(stdout)).toEqual({ ADMIN_TOKEN: token });
  });

  it('preflight exits 1 on a failed check and 2 on a bad option', async () => {
    const run = async (argv: string[]) =>
      runCli(argv, {
        env: {},
        stdout: () => {},
        stderr: () => {},
        runWrangler: async () => ({ code: 0, stdout: '[]' }),
      });
    const options = [
      '--config',
      edge,
      '--control-config',
      control,
      '--secrets-file',
      secrets,
      '--secrets-example',
      example,
    ];
    expect(await run(['preflight', ...options])).toBe(EXIT_CODES.api);
    expect(await run(['preflight', ...options, '--env', 'prod/eu'])).toBe(EXIT_CODES.usage);
    expect(await run(['preflight', '--bogus'])).toBe(EXIT_CODES.usage);
  });
});

describe('gate', () => {
  const started = Date.parse('2026-11-25T12:00:00Z');
  const healthy = {
    status: 'healthy',
    at: '2026-11-25T12:05:00Z',
    configVersion: 7,
    numbers: { canary: { errorRatePercent: 0.4 } },
  };
  const status = (over: Partial<GateStatus> = {}): GateStatus => ({
    state: 'ramping',
    percent: 10,
    version: 7,
    kill: { canary: false },
    guard: healthy,
    ...over,
  });
  const options = { stepStartedMs: started, allowNoVerdict: false };

  it('passes on a healthy verdict from this step, on the config in force', () => {
    expect(judgeGate(status(), options)).toEqual({ pass: true, summary: 'ramping at 10 %, guard healthy' });
  });

  it.each<[string, Partial<GateStatus>, string]>([
    ['aborted', { state: 'aborted', guard: null }, 'the rollout is aborted; no guard verdict yet'],
    ['paused', { state: 'paused' }, 'the rollout is paused, not ramping'],
    ['killed', { kill: { canary: true } }, 'the kill switch stops the canary'],
    [
      'breached',
      { guard: { ...healthy, status: 'breach', reasons: [{ message: 'p95 3100 ms > 2000 ms' }, 'raw'] } },
      'guard verdict: breach (p95 3100 ms > 2000 ms; "raw")',
    ],
    [
      'stale',
      { guard: { ...healthy, at: '2026-11-25T11:59:59Z' } },
      'the guard verdict (2026-11-25T11:59:59Z) predates this step',
    ],
    ['older config', { version: 8 }, 'the guard verdict was judged on config v7, not the current v8'],
    [
      'unrecorded config',
      { guard: { ...healthy, configVersion: undefined } },
      'the guard verdict was judged on an unrecorded config version, not the current v7',
    ],
    [
      'inconclusive',
      { guard: { ...healthy, status: 'inconclusive', reason: 'too little traffic' } },
      'the guard verdict is inconclusive (too little traffic)',
    ],
  ])('fails when %s', (_name, over, why) => {
    const judgement = judgeGate(status(over), options);
    expect(judgement.pass).toBe(false);
    expect(!judgement.pass && judgement.problems.join('; ')).toBe(why);
  });

  it('passes a missing verdict with --allow-no-verdict, with a warning, but never a breach', () => {
    expect(judgeGate(status({ guard: null }), { ...options, allowNoVerdict: true })).toEqual({
      pass: true,
      summary:
        'ramping at 10 %, guard has no verdict (warning: no guard verdict yet; passed with --allow-no-verdict)',
    });
    expect(
      judgeGate(status({ guard: { ...healthy, status: 'breach' } }), { ...options, allowNoVerdict: true })
        .pass,
    ).toBe(false);
  });

  it("holds the canary's error rate against --max-error-rate, and fails when there is none", () => {
    expect(judgeGate(status(), { ...options, maxErrorRatePercent: 0.5 }).pass).toBe(true);
    expect(judgeGate(status(), { ...options, maxErrorRatePercent: 0.3 })).toEqual({
      pass: false,
      problems: ['canary error rate 0.4 % > 0.3 %'],
    });
    expect(
      judgeGate(status({ guard: { ...healthy, numbers: undefined } }), {
        ...options,
        maxErrorRatePercent: 1,
      }),
    ).toEqual({
      pass: false,
      problems: ['no canary error rate in the guard verdict to hold against --max-error-rate'],
    });
  });

  it('npx rollout gate reads the status on stdin: exit 0 pass, 1 fail or unreadable, 2 bad option', async () => {
    const run = async (argv: string[], stdin: string) => {
      let stdout = '';
      const code = await runCli(argv, {
        env: {},
        stdout: (text) => (stdout += text),
        stderr: () => {},
        readStdin: async () => stdin,
      });
      return { code, stdout };
    };
    const json = JSON.stringify(status());
    expect(await run(['gate', '--step-started-ms', String(started)], json)).toEqual({
      code: 0,
      stdout: 'ramping at 10 %, guard healthy\n',
    });
    expect(
      await run(['gate', '--step-started-ms', String(started), '--max-error-rate', '0.25'], json),
    ).toEqual({
      code: 1,
      stdout: 'canary error rate 0.4 % > 0.25 %\n',
    });
    expect((await run(['gate', '--step-started-ms', '0'], '<html>502</html>')).stdout).toContain(
      'the rollout status is unreadable (not JSON)',
    );
    expect((await run(['gate', '--step-started-ms', 'soon'], json)).code).toBe(2);
    expect((await run(['gate', '--step-started-ms', '0', '--max-error-rate', '101'], json)).code).toBe(2);
  });
});

describe('current-version', () => {
  it('reads the version at 100 % of wrangler deployments status, and nothing else', () => {
    const deployment = (versions: unknown) => JSON.stringify({ id: 'dep-1', versions });
    expect(currentVersion(deployment([{ version_id: '0a0a-1111', percentage: 100 }]))).toBe('0a0a-1111');
    expect(
      currentVersion(
        deployment([
          { version_id: 'a', percentage: 90 },
          { version_id: 'b', percentage: 10 },
        ]),
      ),
    ).toBeUndefined();
    expect(currentVersion(deployment([{ version_id: '$(rm -rf /)', percentage: 100 }]))).toBeUndefined();
    expect(currentVersion('✘ [ERROR] not found')).toBeUndefined();
  });
});

describe('launch-config and override-link', () => {
  const plan = file(
    'plan.json',
    JSON.stringify({
      config: { rollout: { percent: 0, salt: 'launch-2' }, flags: { templates: { enabled: false } } },
      phases: [{ name: 'templates', flags: { templates: 100 }, watch: 'errors' }],
    }),
  );
  const stored = (version: number, state: string, percent: number) =>
    RolloutConfigSchema.parse({ version, rollout: { percent, salt: 'launch-1', state } });
  const kill = { canary: false, allFlags: false, flags: [], raw: null, sources: { api: null, hand: null } };
  const replica = { committedVersion: 4, replicatedVersion: 4, lagging: false, failedAttempts: 0 };

  /** The admin API: /state with its ETag, /preview, /config; records each call and its If-Match. */
  function fakeApi(options: { state?: string; percent?: number; changed?: boolean; stale?: boolean } = {}) {
    const { state = 'idle', percent = 0, changed = true, stale = false } = options;
    const calls: string[] = [];
    const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const path = new URL(String(input)).pathname;
      const ifMatch = new Headers(init?.headers).get('if-match');
      calls.push(`${init?.method ?? 'GET'} ${path}${ifMatch ? ` If-Match ${ifMatch}` : ''}`);
      if (path.endsWith('/state'))
        return Response.json(
          {
            version: 4,
            state,
            percent,
            config: stored(4, state, percent),
            kill,
            source: 'kv',
            replica: { ...replica, kvVersion: 4 },
            guard: null,
          },
          { headers: { etag: '"4"' } },
        );
      if (path.endsWith('/preview'))
        return Response.json({
          currentVersion: 4,
          version: changed ? 5 : 4,
          changed,
          config: stored(changed ? 5 : 4, 'idle', 0),
          kill: null,
          preview: {
            movesVisitors: false,
            canaryShare: { before: 0, after: 0 },
            moves: [],
            sample: { size: 40000, seed: 'x' },
            summary: ['No visitor changes cohort or flag value.'],
          },
        });
      if (path.endsWith('/config')) {
        if (stale)
          return Response.json({ error: 'If-Match 4 is not the current version 5' }, { status: 412 });
        return Response.json({ version: 5, config: stored(5, 'idle', 0), changed: true, kill, replica });
      }
      if (path.endsWith('/override-link'))
        return Response.json({
          url: `http://app.example/__rollout/override?token=${JSON.parse(String(init?.body)).cohort}`,
          expiresAt: '2026-11-25T13:00:00.000Z',
        });
      return Response.json({ error: 'not found' }, { status: 404 });
    }) as typeof globalThis.fetch;
    return { fetch, calls };
  }

  async function run(argv: string[], api: ReturnType<typeof fakeApi>, env: Record<string, string> = {}) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      env: { ROLLOUT_URL: 'http://127.0.0.1:9', ROLLOUT_TOKEN: 'launch-token-1234', ...env },
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
      fetch: api.fetch,
    });
    return { code, stdout, stderr };
  }

  it("previews the plan's config, then writes it with If-Match on the version of GET /state's ETag", async () => {
    const api = fakeApi();
    const { code, stdout } = await run(['launch-config', '--file', plan], api);
    expect(code, stdout).toBe(0);
    expect(api.calls).toEqual([
      'GET /__rollout/state',
      'POST /__rollout/preview If-Match "4"',
      'PUT /__rollout/config If-Match "4"',
    ]);
    expect(stdout).toContain('Preview: version 4 → 5.');
    expect(stdout).toContain('✔ launch config written: config version 4 → 5');
  });

  it('--dry-run previews and writes nothing; a config already in force is not written again', async () => {
    const dry = fakeApi();
    expect((await run(['launch-config', '--file', plan, '--dry-run'], dry)).stdout).toContain(
      'would write it: PUT /__rollout/config with If-Match: "4"',
    );
    expect(dry.calls.some((call) => call.startsWith('PUT'))).toBe(false);
    const same = fakeApi({ changed: false });
    const { code, stdout } = await run(['launch-config', '--file', plan], same);
    expect(code).toBe(0);
    expect(stdout).toContain('✔ the launch config is already in force (config version 4)');
    expect(same.calls.some((call) => call.startsWith('PUT'))).toBe(false);
  });

  it('refuses while a launch is live, and on a write someone beat, changing nothing', async () => {
    const live = fakeApi({ state: 'ramping', percent: 10 });
    const refused = await run(['launch-config', '--file', plan], live);
    expect(refused.code).toBe(EXIT_CODES.api);
    expect(refused.stderr).toContain('a launch is live (ramping at 10 %)');
    expect(live.calls).toEqual(['GET /__rollout/state']);
    const stale = await run(['launch-config', '--file', plan], fakeApi({ stale: true }));
    expect(stale.code).toBe(EXIT_CODES.api);
    expect(stale.stderr).toContain('answered 412');
    expect(stale.stderr).toContain('nothing was written');
  });

  it('refuses a plan with a typo flag before sending anything (exit 2)', async () => {
    const typo = file(
      'typo.json',
      JSON.stringify({
        config: { rollout: { percent: 0, salt: 's' }, flags: { templates: { enabled: false } } },
        phases: [{ name: 't', flags: { tempaltes: 100 }, watch: 'w' }],
      }),
    );
    const api = fakeApi();
    const { code, stderr } = await run(['launch-config', '--file', typo], api);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain('unknown flag "tempaltes": did you mean templates?');
    expect(api.calls).toEqual([]);
  });

  it('override-link prints the signed link for the cohort; needs a token', async () => {
    const api = fakeApi();
    const { code, stdout } = await run(['override-link', 'canary', '--ttl', '600'], api);
    expect(code).toBe(0);
    expect(stdout).toBe(
      'http://app.example/__rollout/override?token=canary  (canary, until 2026-11-25T13:00:00.000Z)\n',
    );
    expect((await run(['override-link', 'beta'], api)).code).toBe(EXIT_CODES.usage);
    expect((await run(['override-link', 'canary', '--ttl', '5'], api)).code).toBe(EXIT_CODES.usage);
    expect((await run(['override-link', 'canary'], api, { ROLLOUT_TOKEN: '' })).code).toBe(EXIT_CODES.usage);
    expect(api.calls).toEqual(['POST /__rollout/override-link']);
  });
});

describe('the launch commands on the command line', () => {
  it('parseCommandLine knows them and checks their arguments, as it does the admin commands', () => {
    expect(parseCommandLine(['override-link', 'canary', '--ttl', '600'])).toEqual({
      kind: 'ops',
      name: 'override-link',
      help: false,
    });
    expect(parseCommandLine(['gate', '--help'])).toEqual({ kind: 'ops', name: 'gate', help: true });
    expect(() => parseCommandLine(['launch-config', '--fiel', 'x'])).toThrow(UsageError);
    expect(() => parseCommandLine(['override-link'])).toThrow(/override-link takes <cohort>, got 0 argument/);
  });

  it('npx rollout --help lists them, and each has its own --help', async () => {
    let stdout = '';
    const run = (argv: string[]) =>
      runCli(argv, { env: {}, stdout: (text) => (stdout += text), stderr: () => {} });
    expect(await run(['--help'])).toBe(EXIT_CODES.ok);
    expect(stdout).toContain('Launch commands');
    expect(stdout).toContain('  preflight [--env NAME]');
    stdout = '';
    expect(await run(['launch-config', '--help'])).toBe(EXIT_CODES.ok);
    expect(stdout).toMatch(/^npx rollout launch-config \[--file PLAN\]/);
  });
});
