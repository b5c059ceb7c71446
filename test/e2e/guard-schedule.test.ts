import { describe, expect, it } from 'vitest';
import worker from '../../worker/control/index';
import {
  RECENT_SQL,
  bakeSql,
  evenTrafficRule,
  guardWorld,
  statsAnswer,
} from '../support/fake-sql-api/guard-world';

const STARTED = Date.UTC(2026, 10, 25, 12, 0, 0);
const MIN = 60_000;
const healthy = statsAnswer({ requests: 1500, errors: 3, p95Ms: 420, emailDelivered: 48, emailFailed: 1 });

describe('guard: step schedule (worker.scheduled, the trigger time as the clock)', () => {
  it('advances a healthy 10 % canary to 50 % once it has baked, and not before', async () => {
    const world = await guardWorld();
    await world.putConfig({
      version: 5,
      rollout: { steps: [10, 50, 100], bakeMinutes: 15, stepStartedAt: new Date(STARTED).toISOString() },
    });
    await world.answer([
      { sql: RECENT_SQL, answer: healthy },
      { sql: bakeSql(STARTED), answer: statsAnswer({ requests: 4200, errors: 9, p95Ms: 430 }) },
      // v5 served every request from the step's first minute: the bake runs from STARTED.
      evenTrafficRule({ minutesMs: [STARTED], configVersion: 5, percent: 10 }),
    ]);

    await world.run(worker.scheduled, STARTED + 13 * MIN);
    await world.run(worker.scheduled, STARTED + 14 * MIN);
    expect((await world.config()).rollout.percent).toBe(10);
    expect(await world.audit()).toEqual([]);
    expect(await world.webhookCalls()).toEqual([]);
    expect(await world.verdict()).toMatchObject({
      status: 'healthy',
      action: { type: 'none', why: 'baking: 1 min left at 10 %' },
      schedule: { current: 10, next: 50, bakeEndsAt: new Date(STARTED + 15 * MIN).toISOString() },
    });

    await world.run(worker.scheduled, STARTED + 15 * MIN);
    const config = await world.config();
    expect(config.rollout).toMatchObject({
      percent: 50,
      state: 'ramping',
      stepStartedAt: new Date(STARTED + 15 * MIN).toISOString(),
    });
    expect(config.version).toBe(6);
    expect(await world.audit()).toEqual([
      expect.objectContaining({
        actor: 'guard',
        action: 'set-percent',
        version: 6,
        reason: 'guard: healthy for 15 min at 10 % (3 consecutive healthy runs)',
      }),
    ]);
    const calls = await world.webhookCalls();
    expect(calls.map((call) => call.text)).toEqual([
      expect.stringContaining('advanced the canary 10 % → 50 %'),
    ]);
    expect(
      (await world.queries()).map((query) => query.sql).filter((sql) => !sql.includes('AS minute')),
    ).toEqual([RECENT_SQL, RECENT_SQL, RECENT_SQL, bakeSql(STARTED)]);

    // The new step bakes from its own propagation: a minute later nothing moves.
    await world.run(worker.scheduled, STARTED + 16 * MIN);
    expect((await world.config()).rollout.percent).toBe(50);
    expect(await world.audit()).toHaveLength(1);
  });

  it('does not advance when the bake window as a whole was not healthy', async () => {
    const world = await guardWorld();
    await world.putConfig({
      rollout: { steps: [10, 50, 100], bakeMinutes: 15, stepStartedAt: new Date(STARTED).toISOString() },
    });
    await world.answer([
      { sql: RECENT_SQL, answer: healthy },
      { sql: bakeSql(STARTED), answer: statsAnswer({ requests: 4200, errors: 210, p95Ms: 430 }) },
      evenTrafficRule({ minutesMs: [STARTED], configVersion: 5, percent: 10 }),
    ]);
    for (const minutes of [18, 19, 20]) await world.run(worker.scheduled, STARTED + minutes * MIN);

    expect((await world.config()).rollout.percent).toBe(10);
    expect(await world.audit()).toEqual([]);
    expect(await world.verdict()).toMatchObject({
      status: 'healthy',
      action: {
        type: 'none',
        why: expect.stringContaining('bake window not healthy: canary error rate 5.00 %'),
      },
    });
  });

  it('never advances a paused rollout', async () => {
    const world = await guardWorld();
    await world.putConfig({
      rollout: {
        state: 'paused',
        steps: [10, 50],
        bakeMinutes: 15,
        stepStartedAt: new Date(STARTED).toISOString(),
      },
    });
    await world.answer([
      { sql: RECENT_SQL, answer: healthy },
      { sql: bakeSql(STARTED), answer: healthy },
    ]);
    await world.run(worker.scheduled, STARTED + 60 * MIN);

    expect((await world.config()).rollout).toMatchObject({ percent: 10, state: 'paused' });
    expect(await world.audit()).toEqual([]);
    expect(await world.webhookCalls()).toEqual([]);
  });
});
