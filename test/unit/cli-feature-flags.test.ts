import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagBodySchema } from '../../src/admin/admin-schemas';
import { applyCommand } from '../../src/admin/apply-command';
import { RolloutConfigSchema, type RolloutConfig } from '../../src/config/config-schema';
import { describePlan, INVOICING_FLAG_PHASES, runFeatureFlags, stepBody } from '../../scripts/feature-flags';
import { parseLaunchPlan, readLaunchPlan, type LaunchPlanInput } from '../../cli/launch-plan';
import launchFile from '../../docs/examples/invoicing-launch.json';

const APPLY = {
  now: 0,
  newSalt: () => 's',
  origins: { stable: 'https://s.example', canary: 'https://c.example' },
};

/** The reviewed file's config as the Worker stores it once phase A wrote it. */
const launchConfig = (): RolloutConfig =>
  RolloutConfigSchema.parse({ ...readLaunchPlan().config, version: 1 });

describe('the invoicing launch plan (docs/examples/invoicing-launch.json)', () => {
  it('turns the flags on in the launch plan’s order: email delivery employees first, then 25 %, then everyone', () => {
    expect(INVOICING_FLAG_PHASES.flatMap((phase) => Object.keys(phase.flags))).toEqual([
      'fileStorage',
      'templates',
      'emailDelivery',
      'emailDelivery',
      'emailDelivery',
      'invoiceTemplateVersion',
      'analytics',
    ]);
  });

  it('writes every flag off at 0 %, with the business routes the guard counts', () => {
    const config = launchConfig();
    expect(config.rollout.percent).toBe(0);
    expect(config.routes.map((route) => route.name)).toEqual([
      'invoice_created',
      'template_used',
      'email_sent',
      'file_upload',
    ]);
    for (const flag of Object.values(config.flags)) expect(flag.enabled).toBe(false);
  });

  it('gives every step a body the admin API accepts on the written config, without creating a flag', () => {
    let config = launchConfig();
    for (const phase of INVOICING_FLAG_PHASES)
      for (const [name, step] of Object.entries(phase.flags)) {
        const body = FlagBodySchema.parse(stepBody(step));
        expect(body.create).toBeUndefined();
        const { reason: _reason, ...change } = body;
        const result = applyCommand(config, { type: 'set-flag', name, ...change }, APPLY);
        if (!result.ok) throw new Error(`${phase.name}: ${result.issues?.join('; ') ?? result.error}`);
        config = result.config;
      }
    expect(config.flags.emailDelivery).toMatchObject({
      enabled: true,
      fallthrough: { split: { on: 100, off: 0 } },
    });
    expect(config.flags.invoiceTemplateVersion).toMatchObject({
      enabled: true,
      fallthrough: { split: { classic: 50, modern: 50 } },
    });
    expect(config.flags.analytics).toMatchObject({ enabled: true, percent: 100 });
  });

  it('refuses a phase naming a flag the config does not declare, with "did you mean"', () => {
    const plan = structuredClone(launchFile) as unknown as LaunchPlanInput;
    plan.phases[2]!.flags = { emailDelivry: { enabled: true } };
    expect(() => parseLaunchPlan(plan, 'typo.json')).toThrow(
      /phases\.2\.flags\.emailDelivry: unknown flag "emailDelivry": did you mean emailDelivery\?/,
    );
  });

  it('refuses a config that carries its own version: the write sends the version it read', () => {
    const plan = structuredClone(launchFile) as unknown as LaunchPlanInput;
    (plan.config as { version?: number }).version = 3;
    expect(() => parseLaunchPlan(plan, 'versioned.json')).toThrow(/config\.version: leave "version" out/);
  });

  it('describes each phase on one numbered line', () => {
    const lines = describePlan().split('\n');
    expect(lines).toHaveLength(INVOICING_FLAG_PHASES.length);
    expect(lines[2]).toBe(
      'phase 3: email delivery: employees first: emailDelivery → on (as its rules say) (watch email delivery (guard: < 90 %) and the support inbox)',
    );
    expect(lines[3]).toBe(
      'phase 4: email delivery: 25 %: emailDelivery → on 25 % / off 75 % (watch email delivery (guard: < 90 %))',
    );
  });
});

describe('runFeatureFlags', () => {
  let server: Server;
  let url: string;
  const seen: { method: string; url: string; body: unknown }[] = [];
  // A stand-in of PUT /flags/:name that applies the body with the core's own applyCommand to the
  // launch config, as the control plane does: an unknown name is a 400 naming the known ones, and
  // a write that changes nothing keeps the version.
  let config: RolloutConfig;

  beforeAll(async () => {
    config = launchConfig();
    server = createServer(async (req, res) => {
      let text = '';
      for await (const chunk of req) text += chunk;
      const { reason: _reason, ...body } = FlagBodySchema.parse(JSON.parse(text));
      seen.push({ method: req.method!, url: req.url!, body: JSON.parse(text) });
      const name = decodeURIComponent(req.url!.split('/').pop()!);
      const result = applyCommand(config, { type: 'set-flag', name, ...body }, APPLY);
      res.setHeader('content-type', 'application/json');
      if (!result.ok) {
        res.writeHead(result.status);
        res.end(JSON.stringify({ error: result.error, issues: result.issues }));
        return;
      }
      const { version: _v, ...before } = config;
      const { version: _w, ...after } = result.config;
      const changed = JSON.stringify(before) !== JSON.stringify(after);
      if (changed) config = { ...result.config, version: config.version + 1 };
      res.writeHead(200);
      res.end(
        JSON.stringify({
          version: config.version,
          config,
          changed,
          kill: { canary: false, allFlags: false, flags: [], raw: null, sources: { api: null, hand: null } },
          replica: {
            committedVersion: config.version,
            replicatedVersion: config.version,
            lagging: false,
            failedAttempts: 0,
          },
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function run(
    argv: string[],
    env: Record<string, string> = { ROLLOUT_URL: url, ROLLOUT_TOKEN: 'tok-12345' },
  ) {
    let stdout = '';
    let stderr = '';
    const code = await runFeatureFlags(argv, {
      env,
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
    });
    return { code, stdout, stderr };
  }

  it('applies one phase with a reason naming it, and never asks to create a flag', async () => {
    seen.length = 0;
    const { code, stdout } = await run(['--phase', '2', '--actor', 'ops']);
    expect(code).toBe(0);
    expect(seen).toEqual([
      {
        method: 'PUT',
        url: '/__rollout/flags/templates',
        body: { enabled: true, percent: 100, reason: 'feature-flags phase 2: templates' },
      },
    ]);
    expect(stdout).toContain('✔ templates on for 100 % (config version 2)');
  });

  it('running a phase again changes nothing and says so', async () => {
    expect((await run(['--phase', '1'])).code).toBe(0);
    const before = config.version;
    const again = await run(['--phase', '1']);
    expect(again.code).toBe(0);
    expect(config.version).toBe(before);
    expect(again.stdout).toContain(
      `✔ fileStorage already on for 100 %: no change (config version ${before})`,
    );
  });

  it('sends nothing with --dry-run, and needs no token for it', async () => {
    seen.length = 0;
    const { code, stdout } = await run(['--phase', '4', '--dry-run'], { ROLLOUT_URL: url });
    expect(code).toBe(0);
    expect(stdout).toContain(
      'would send PUT /__rollout/flags/emailDelivery {"enabled":true,"weights":{"split":{"on":25,"off":75}}}',
    );
    expect(seen).toHaveLength(0);
  });

  it.each([
    [['--phase', '0'], /phase must be at least 1/],
    [['--phase', '9'], /phase must be at most 7/],
    [['--phase', 'two'], /phase must be a whole number/],
    [[], /choose a phase with --phase N/],
    [['--phases', '1'], /Unknown option '--phases'/],
  ])('rejects %j with exit 2', async (argv, message) => {
    seen.length = 0;
    const { code, stderr } = await run(argv);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(seen).toHaveLength(0);
  });

  it('fails (exit 1) with "did you mean" when the Worker\'s config lacks a flag of the plan, creating nothing', async () => {
    const { analytics: _gone, ...rest } = config.flags;
    const kept = config;
    config = { ...config, flags: { ...rest, analytic: rest.templates! } };
    try {
      const { code, stderr } = await run(['--phase', '7']);
      expect(code).toBe(1);
      expect(stderr).toContain('flag "analytics" is not in the config');
      expect(stderr).toContain('Did you mean analytic?');
      expect(Object.keys(config.flags)).not.toContain('analytics');
    } finally {
      config = kept;
    }
  });

  it('reads another plan with --file, and refuses an unreadable one with exit 2', async () => {
    const { code, stderr } = await run(['--list', '--file', 'no/such/plan.json']);
    expect(code).toBe(2);
    expect(stderr).toContain('cannot read the launch file no/such/plan.json: ENOENT');
  });

  it('exits 3 when the admin API cannot be reached', async () => {
    const { code, stderr } = await run(['--phase', '1'], {
      ROLLOUT_URL: 'http://127.0.0.1:9',
      ROLLOUT_TOKEN: 'tok-12345',
    });
    expect(code).toBe(3);
    expect(stderr).toContain('cannot reach the admin API at http://127.0.0.1:9');
  });
});
