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
// 3000 requests: enough for a clean window to count as healthy (2685 tell 1 % from 2 % errors).
const healthy = statsAnswer({ requests: 3000, errors: 6, p95Ms: 420, emailDelivered: 48, emailFailed: 1 });

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
    // Each run reads the recent window and the whole step (in parallel, so in either order); the
    // advancing run reads the bake window too.
    const sent = (await world.queries())
      .map((query) => query.sql)
      .filter((sql) => !sql.includes('AS minute'));
    expect(sent.sort()).toEqual([...Array(3).fill(RECENT_SQL), ...Array(4).fill(bakeSql(STARTED))].sort());

    // The new step bakes from its own propagation: a minute later nothing moves.
    await world.run(worker.scheduled, STARTED + 16 * MIN);
    expect((await world.config()).rollout.percent).toBe(50);
    expect(await world.audit()).toHaveLength(1);
  });

  it('aborts when the step as a whole breached though the last 5 minutes look healthy', async () => {
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

    // Every run judges the whole step too: 210 errors in 4200 requests is a breach of 1 %.
    expect((await world.config()).rollout).toMatchObject({ state: 'aborted', percent: 0 });
    expect(await world.audit()).toEqual([
      expect.objectContaining({
        actor: 'guard',
        action: 'abort',
        reason: expect.stringMatching(
          /^guard: canary error rate 5\.00 % > 1\.00 % .*: 210 errors in 4200 requests over since 2026-11-25T12:00:00\.000Z/,
        ),
      }),
    ]);
    expect(await world.verdict()).toMatchObject({ status: 'breach', action: { type: 'aborted' } });
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
