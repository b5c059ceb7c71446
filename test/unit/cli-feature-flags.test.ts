import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagBodySchema } from '../../src/admin/admin-schemas';
import { applyCommand } from '../../src/admin/apply-command';
import { FlagNameSchema, RolloutConfigSchema } from '../../src/config/config-schema';
import { describePlan, INVOICING_FLAG_PHASES, runFeatureFlags, stepBody } from '../../scripts/feature-flags';
import demoConfig from '../../scripts/demo/demo-config.json';

const APPLY = {
  now: 0,
  newSalt: () => 's',
  origins: { stable: 'https://s.example', canary: 'https://c.example' },
};

describe('the invoicing launch flag plan', () => {
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
    for (const phase of INVOICING_FLAG_PHASES)
      for (const flag of Object.keys(phase.flags)) expect(FlagNameSchema.safeParse(flag).success).toBe(true);
  });

  it('gives every step a body the admin API accepts, and a config the plan builds validates', () => {
    let config = RolloutConfigSchema.parse(demoConfig);
    for (const phase of INVOICING_FLAG_PHASES)
      for (const [name, step] of Object.entries(phase.flags)) {
        const body = FlagBodySchema.parse(stepBody(step));
        const { reason: _reason, ...change } = body;
        const result = applyCommand(config, { type: 'set-flag', name, ...change }, APPLY);
        if (!result.ok) throw new Error(`${phase.name}: ${result.issues?.join('; ') ?? result.error}`);
        config = result.config;
      }
    expect(config.flags.emailDelivery).toMatchObject({ fallthrough: { split: { on: 100, off: 0 } } });
    expect(config.flags.invoiceTemplateVersion).toMatchObject({ type: 'string' });
  });

  it('describes each phase on one numbered line', () => {
    const lines = describePlan().split('\n');
    expect(lines).toHaveLength(INVOICING_FLAG_PHASES.length);
    expect(lines[2]).toBe(
      'phase 3: email delivery: employees first: emailDelivery → boolean flag: employees first, then on 0 % / off 100 % (watch email delivery (guard: < 90 %) and the support inbox)',
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
  // A stand-in of PUT /flags/:name that keeps its config like the API: an unknown name needs
  // `create`, and a write that changes nothing keeps the version.
  let version = 9;
  let flags: Record<string, { enabled: boolean; percent: number }> = {};

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      let text = '';
      for await (const chunk of req) text += chunk;
      const body = JSON.parse(text) as { enabled: boolean; percent: number; create?: boolean };
      seen.push({ method: req.method!, url: req.url!, body });
      const name = decodeURIComponent(req.url!.split('/').pop()!);
      if (!flags[name] && !body.create) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `flag "${name}" is not in the config` }));
        return;
      }
      const next = { enabled: body.enabled, percent: body.percent };
      const changed = JSON.stringify(flags[name]) !== JSON.stringify(next);
      if (changed) version++;
      flags = { ...flags, [name]: next };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          version,
          config: { version, rollout: { percent: 100, salt: 's', state: 'promoted' }, flags },
          changed,
          kill: { canary: false, allFlags: false, flags: [], raw: null, sources: { api: null, hand: null } },
          replica: {
            committedVersion: version,
            replicatedVersion: version,
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

  it('applies one phase with a reason naming it, creating the flag the config lacks', async () => {
    seen.length = 0;
    const { code, stdout } = await run(['--phase', '2', '--actor', 'ops']);
    expect(code).toBe(0);
    expect(seen).toEqual([
      {
        method: 'PUT',
        url: '/__rollout/flags/templates',
        body: { enabled: true, percent: 100, create: true, reason: 'feature-flags phase 2: templates' },
      },
    ]);
    expect(stdout).toContain('✔ templates on for 100 % (config version 10)');
  });

  it('running a phase again changes nothing and says so', async () => {
    expect((await run(['--phase', '1'])).code).toBe(0);
    const before = version;
    const again = await run(['--phase', '1']);
    expect(again.code).toBe(0);
    expect(version).toBe(before);
    expect(again.stdout).toContain(
      `✔ fileStorage already on for 100 %: no change (config version ${before})`,
    );
  });

  it('sends nothing with --dry-run, and needs no token for it', async () => {
    seen.length = 0;
    const { code, stdout } = await run(['--phase', '4', '--dry-run'], { ROLLOUT_URL: url });
    expect(code).toBe(0);
    expect(stdout).toContain(
      'would send PUT /__rollout/flags/emailDelivery {"weights":{"split":{"on":25,"off":75}}}',
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

  it('exits 3 when the admin API cannot be reached', async () => {
    const { code, stderr } = await run(['--phase', '1'], {
      ROLLOUT_URL: 'http://127.0.0.1:9',
      ROLLOUT_TOKEN: 'tok-12345',
    });
    expect(code).toBe(3);
    expect(stderr).toContain('cannot reach the admin API at http://127.0.0.1:9');
  });
});
