import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../src/config/settings';
import { PROBE_METHOD, PROBE_ROUTE } from '../../src/guard/origin-probes';
import { parseGuardSettings } from '../../src/guard/guard-settings';
import { nullErrorReporter, type Logger } from '../../src/ports';
import { controlPlaneFor } from '../../worker/control/single-writer/control-plane';
import { buildGuardDeps } from '../../worker/control/guard-deps';
import worker from '../../worker/control/index';
import { probeOrigins } from '../../worker/control/origin-probes';
import { newAccountId, webhookReceiver } from '../support/fake-sql-api/control';
import { guardWorld } from '../support/fake-sql-api/guard-world';
import { RecordingMetricsSink } from '../support/core-fixtures';

const T = Date.UTC(2026, 10, 25, 3, 0, 0);
const MINUTE = 60_000;
const quiet: Logger = { info() {}, warn() {}, error() {} };

// The echo origins answer `/status/NNN` with NNN. An origin served under the prefix `/status`
// therefore answers the health path `/503` with 503: a down origin. The other origin, without
// the prefix, echoes `/503` with 200: an up one.
const up = (port: number) => `http://127.0.0.1:${port}`;
const down = (port: number) => `http://127.0.0.1:${port}/status`;

/**
 * A scenario: the guard's world (fake SQL API answering "no traffic at all", webhook receiver)
 * with the control plane holding a canary at 10 % and probes on `/503`.
 */
async function probeWorld(origins: { stable: string; canary: string }, vars: Record<string, string> = {}) {
  // A token long enough for the Worker's own start-up check, whatever the test config sets.
  const world = await guardWorld({ ADMIN_TOKEN: 'e2e-origin-probes-admin-token-0123456789', ...vars });
  // No visitor traffic: every query of the guard finds no rows.
  await world.answer([{ answer: { json: { meta: [], data: [], rows: 0 } } }]);
  const parsed = parseSettings(world.env as unknown as Record<string, unknown>);
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  const control = controlPlaneFor(world.env.CONTROL, parsed.settings, quiet);
  const seeded = await control.command(
    {
      type: 'replace-config',
      config: {
        origins,
        rollout: { percent: 10, salt: `probe-${crypto.randomUUID()}`, state: 'ramping' },
        probes: { path: '/503' },
      },
    },
    { actor: 'test', now: T - MINUTE },
  );
  if (!seeded.ok) throw new Error(`seeding failed: ${seeded.error}`);
  const state = async () => {
    const current = await control.state();
    if ('ok' in current) throw new Error(current.error);
    return current;
  };
  return {
    ...world,
    seededVersion: seeded.version,
    state,
    /** The audit entries written after the seed, oldest first. */
    async auditSinceSeed() {
      const page = await control.audit(20, undefined);
      if ('ok' in page) throw new Error(page.error);
      return page.entries.filter((entry) => entry.version > seeded.version).reverse();
    },
  };
}

describe('origin probes: each minute the scheduled handler probes both origins', () => {
  it('aborts a canary whose health path fails three minutes in a row, with no visitor traffic at all', async () => {
    const world = await probeWorld({ stable: up(inject('stablePort')), canary: down(inject('canaryPort')) });

    await world.run(worker.scheduled, T);
    await world.run(worker.scheduled, T + MINUTE);
    expect((await world.state()).config.rollout).toMatchObject({ state: 'ramping', percent: 10 });
    expect(await world.webhookCalls()).toEqual([]);

    await world.run(worker.scheduled, T + 2 * MINUTE);
    const after = await world.state();
    expect(after.config.rollout).toMatchObject({ state: 'aborted', percent: 0 });
    expect(await world.auditSinceSeed()).toEqual([
      expect.objectContaining({
        actor: 'guard',
        action: 'abort',
        reason:
          'guard: canary origin failed 3 health probes in a row on /503 (last: status 503 (expected 200))',
      }),
    ]);
    const calls = await world.webhookCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.text).toContain('guard aborted the canary at 10 %');
    expect(calls[0]!.text).toContain('failed 3 health probes in a row on /503');

    // The canary stays down: later minutes neither abort again nor notify again.
    await world.run(worker.scheduled, T + 3 * MINUTE);
    expect(await world.auditSinceSeed()).toHaveLength(1);
    expect(await world.webhookCalls()).toHaveLength(1);
  });

  it('a failing stable origin is announced once and never aborts the canary', async () => {
    const world = await probeWorld({ stable: down(inject('stablePort')), canary: up(inject('canaryPort')) });
    for (let minute = 0; minute < 5; minute++) await world.run(worker.scheduled, T + minute * MINUTE);

    expect((await world.state()).config.rollout).toMatchObject({ state: 'ramping', percent: 10 });
    expect(await world.auditSinceSeed()).toEqual([]);
    const calls = await world.webhookCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.text).toContain('the STABLE origin failed 3 health probes in a row on /503');
    expect(calls[0]!.text).toContain('The canary is not aborted');
  });

  it('records each probe as a data point with route probe, per cohort, and its outcome', async () => {
    const world = await probeWorld({ stable: up(inject('stablePort')), canary: down(inject('canaryPort')) });
    const parsed = parseSettings(world.env as unknown as Record<string, unknown>);
    const guard = parseGuardSettings(world.env as unknown as Record<string, unknown>);
    if (!parsed.ok || !guard.enabled) throw new Error('the world must enable the guard');
    const deps = buildGuardDeps(world.env, parsed.settings, guard.settings, {
      clock: { now: () => T },
      logger: quiet,
      reporter: nullErrorReporter,
      fetch: (input, init) => fetch(input, init),
    });
    const sink = new RecordingMetricsSink();

    const result = await probeOrigins(deps, world.env, parsed.settings, { sink });

    expect(result).toMatchObject({ ran: true, actions: [] });
    expect(sink.metrics).toEqual([
      expect.objectContaining({
        cohort: 'stable',
        route: PROBE_ROUTE,
        method: PROBE_METHOD,
        status: 200,
        outcome: 'ok',
      }),
      expect.objectContaining({
        cohort: 'canary',
        route: PROBE_ROUTE,
        method: PROBE_METHOD,
        status: 503,
        outcome: 'error',
      }),
    ]);
    expect(sink.metrics.every((metric) => metric.configVersion === world.seededVersion)).toBe(true);
  });

  it('sends the probe data points to the local collector when METRICS_COLLECTOR_URL is set, as the splitter does', async () => {
    // The webhook receiver stands in for the demo's collector: it keeps every JSON body posted.
    const collector = webhookReceiver(`http://127.0.0.1:${inject('webhookPort')}`);
    const points = newAccountId();
    const world = await probeWorld(
      { stable: up(inject('stablePort')), canary: down(inject('canaryPort')) },
      { METRICS_COLLECTOR_URL: collector.url(points) },
    );

    await world.run(worker.scheduled, T);

    const posted = (await collector.calls(points)) as unknown as { blobs: string[] }[];
    expect(posted.map((point) => point.blobs.slice(0, 5))).toEqual(
      (['stable', 'canary'] as const).map((cohort) => [
        cohort,
        String(world.seededVersion),
        world.env.CF_VERSION_METADATA?.id ?? 'dev',
        PROBE_METHOD,
        PROBE_ROUTE,
      ]),
    );
  });
});
