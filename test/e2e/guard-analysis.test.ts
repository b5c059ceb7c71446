import { describe, expect, it } from 'vitest';
import worker from '../../worker/control/index';
import {
  RECENT_SQL,
  bakeSql,
  evenTrafficRule,
  guardWorld,
  statsAnswer,
  trafficAnswer,
} from '../support/fake-sql-api/guard-world';
import { evenTraffic } from '../support/fake-sql-api/control';

const STARTED = Date.UTC(2026, 10, 25, 12, 0, 0);
const MIN = 60_000;
// 3000 requests: enough for a clean window to count as healthy (2685 tell 1 % from 2 % errors).
const healthy = statsAnswer({ requests: 3000, errors: 6, p95Ms: 420 });
const schedule = { steps: [10, 50, 100], bakeMinutes: 15, stepStartedAt: new Date(STARTED).toISOString() };

describe('guard analysis through the SQL API (worker.scheduled)', () => {
  it('pauses a scheduled canary whose observed split does not match its percent', async () => {
    const world = await guardWorld();
    await world.putConfig({ version: 5, rollout: schedule });
    // Five minutes at 15 % (the split test estimates the per-visitor spread across minutes).
    const minutes = [26, 27, 28, 29, 30].map((m) => Math.floor((STARTED + m * MIN) / 1000 / 60) * 60);
    await world.answer([
      { sql: RECENT_SQL, answer: healthy },
      {
        sqlIncludes: 'AS minute',
        answer: trafficAnswer(
          minutes.flatMap((minute) => [
            { minute, configVersion: 5, cohort: 'canary' as const, requests: 1500 },
            { minute, configVersion: 5, cohort: 'stable' as const, requests: 8500 },
          ]),
        ),
      },
    ]);
    // The first look below the threshold waits for a second one.
    await world.run(worker.scheduled, STARTED + 30 * MIN);
    expect((await world.config()).rollout.state).toBe('ramping');
    await world.run(worker.scheduled, STARTED + 31 * MIN);

    const config = await world.config();
    expect(config.rollout).toMatchObject({ state: 'paused', percent: 10 });
    expect(config.version).toBe(6);
    expect(await world.audit()).toEqual([
      expect.objectContaining({
        actor: 'guard',
        action: 'pause',
        version: 6,
        reason: expect.stringMatching(
          /^guard: sample ratio mismatch: 7500 canary of 50000 \(15\.00 %, expected 10 %\)/,
        ),
      }),
    ]);
    const verdict = await world.verdict();
    expect(verdict).toMatchObject({
      status: 'inconclusive',
      srm: { class: 'fail', canary: 7500, stable: 42500, expectedCanaryPercent: 10, mismatches: 2 },
      action: { type: 'paused', version: 6 },
      sql: [
        RECENT_SQL,
        expect.stringContaining('AS minute'),
        bakeSql(STARTED),
        expect.stringContaining('AS minute'),
      ],
    });
    expect(verdict && 'table' in verdict && verdict.table).toContainEqual(
      expect.objectContaining({ metric: 'srm', class: 'fail' }),
    );
    const calls = await world.webhookCalls();
    expect(calls.map((call) => call.text)).toEqual([expect.stringContaining('paused the rollout at 10 %')]);
    expect(JSON.stringify(calls[0]!.blocks)).toMatch(/srm +15\.00 % +10\.00 % +&lt; p 0\.001 +50000 +fail/);
  });

  it('does not start the bake of a step whose config serves under 99 % of a minute', async () => {
    const world = await guardWorld();
    await world.putConfig({ version: 5, rollout: schedule });
    const minute = Math.floor((STARTED + 20 * MIN) / 1000 / 60) * 60;
    // 97 % of the minute at v5; the rest is an isolate still on v4 (its old split, 5 %).
    const rows = [
      ...evenTraffic({ minutesMs: [STARTED + 20 * MIN], configVersion: 5, percent: 10, perMinute: 970 }),
      { minute, configVersion: 4, cohort: 'stable' as const, requests: 30 },
    ];
    await world.answer([
      { sql: RECENT_SQL, answer: healthy },
      { sqlIncludes: 'AS minute', answer: trafficAnswer(rows) },
    ]);
    for (const at of [STARTED + 18 * MIN, STARTED + 19 * MIN, STARTED + 20 * MIN])
      await world.run(worker.scheduled, at);

    expect((await world.config()).rollout.percent).toBe(10);
    expect(await world.audit()).toEqual([]);
    expect(await world.verdict()).toMatchObject({
      status: 'healthy',
      streak: { healthy: 3 },
      propagation: { version: 5, bakeStartedAt: null, lastMinute: { percent: 97, requests: 1000 } },
      schedule: { bakeEndsAt: null },
      configVersions: [
        { version: '5', percent: 97 },
        { version: '4', percent: 3 },
      ],
      action: {
        type: 'none',
        why: expect.stringContaining('bake not started: waiting for v5 to reach 99 %'),
      },
    });
    // Per run the recent window and the whole step (two queries each): no bake query was sent.
    expect(await world.queries()).toHaveLength(12);
  });

  it('advances a propagated step after its bake and three consecutive healthy runs', async () => {
    const world = await guardWorld();
    await world.putConfig({ version: 5, rollout: schedule });
    await world.answer([
      { sql: RECENT_SQL, answer: healthy },
      // The first run (a young step) reads since the step began.
      { sql: bakeSql(STARTED), answer: healthy },
      // The bake window, from the minute v5 reached every request.
      { sql: bakeSql(STARTED + MIN), answer: statsAnswer({ requests: 4200, errors: 9, p95Ms: 430 }) },
      evenTrafficRule({ minutesMs: [STARTED + MIN], configVersion: 5, percent: 10 }),
    ]);

    await world.run(worker.scheduled, STARTED + MIN);
    expect(await world.verdict()).toMatchObject({
      streak: { healthy: 1 },
      propagation: { version: 5, bakeStartedAt: new Date(STARTED + MIN).toISOString() },
      schedule: { bakeEndsAt: new Date(STARTED + 16 * MIN).toISOString() },
    });
    await world.run(worker.scheduled, STARTED + 16 * MIN);
    expect((await world.config()).rollout.percent).toBe(10);
    expect(await world.verdict()).toMatchObject({
      streak: { healthy: 2 },
      action: { type: 'none', why: 'baked; healthy 2 of 3 consecutive runs' },
    });

    await world.run(worker.scheduled, STARTED + 17 * MIN);
    const config = await world.config();
    expect(config.rollout).toMatchObject({ percent: 50, state: 'ramping' });
    expect(config.version).toBe(6);
    expect(await world.audit()).toEqual([
      expect.objectContaining({
        actor: 'guard',
        action: 'set-percent',
        reason: 'guard: healthy for 15 min at 10 % (3 consecutive healthy runs)',
      }),
    ]);
    expect((await world.webhookCalls()).map((call) => call.text)).toEqual([
      expect.stringContaining('advanced the canary 10 % → 50 %'),
    ]);
  });
});
