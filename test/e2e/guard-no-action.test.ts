import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { ErrorReporter } from '../../src/ports';
import type { ScheduledHandler } from '../../worker/control/scheduled';
import { createScheduledHandler } from '../../worker/control/scheduled';
import worker from '../../worker/control/index';
import { RECENT_SQL, guardWorld, statsAnswer } from '../support/fake-sql-api/guard-world';
import { RecordingLogger } from '../support/in-workerd/test-app';

const T = Date.UTC(2026, 10, 25, 12, 3, 0);

/** The worker's own handler with the reporter and logger observable. */
function observedHandler() {
  const reports: { kind: string; message: string }[] = [];
  const reporter: ErrorReporter = {
    captureException: (error) => void reports.push({ kind: 'exception', message: String(error) }),
    captureMessage: (message, level) => void reports.push({ kind: level, message }),
  };
  const logger = new RecordingLogger();
  return { handler: createScheduledHandler({ reporter, logger }), reports, logger };
}

/** A control-plane namespace whose object never answers (overloaded, or being reset). */
function unreachableControl(): ControlEnv['CONTROL'] {
  const failing = new Proxy(
    {},
    { get: () => () => Promise.reject(new Error('Durable Object is overloaded')) },
  );
  return new Proxy({} as ControlEnv['CONTROL'], {
    get: (_, prop) => (prop === 'get' ? () => failing : () => ({ toString: () => 'id' })),
  });
}

async function runWith(handler: ScheduledHandler, env: ControlEnv, scheduledTime: number): Promise<void> {
  const ctx = createExecutionContext();
  await handler(createScheduledController({ scheduledTime, cron: '* * * * *' }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe('guard: runs that must change nothing', () => {
  it('skips every run while the control plane is unreachable: nothing judged on the KV replica, no abort, one error and one report per outage', async () => {
    const world = await guardWorld();
    const { handler, reports, logger } = observedHandler();
    // The KV replica still shows a ramping canary, and the metrics breach.
    await world.putConfig({ version: 5 });
    await world.answer([{ sql: RECENT_SQL, answer: statsAnswer({ requests: 1200, errors: 96 }) }]);
    const down = { ...world.env, CONTROL: unreachableControl() };
    for (const minute of [0, 1, 2]) await runWith(handler, down, T + minute * 60_000);

    expect(await world.queries()).toEqual([]);
    expect(await world.webhookCalls()).toEqual([]);
    expect(reports).toEqual([
      { kind: 'error', message: expect.stringContaining('guard cannot reach the control plane') },
    ]);
    expect(logger.lines.filter((line) => line.level === 'error')).toEqual([
      expect.objectContaining({ message: 'guard skipped: the control plane is unreachable' }),
    ]);

    // The object answers again: the guard judges the committed config and acts, once.
    await world.run(handler, T + 3 * 60_000);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'info', message: 'guard reaches the control plane again' }),
    );
    expect((await world.config()).rollout.state).toBe('aborted');
    expect(await world.webhookCalls()).toHaveLength(1);
  });

  it('keeps a low-traffic canary as it is: inconclusive, no change, no notice', async () => {
    const world = await guardWorld();
    await world.putConfig({
      version: 5,
      rollout: { steps: [10, 50], bakeMinutes: 1, stepStartedAt: new Date(T - 3_600_000).toISOString() },
    });
    // 20 clean requests: no breach, but far too few to call healthy (20 errors of 20 would be a
    // breach: the exact test catches gross failures on any sample).
    await world.answer([{ sql: RECENT_SQL, answer: statsAnswer({ requests: 20, errors: 0, p95Ms: 300 }) }]);
    await world.run(worker.scheduled, T);

    const config = await world.config();
    expect(config.version).toBe(5);
    expect(config.rollout).toMatchObject({ percent: 10, state: 'ramping' });
    expect(await world.audit()).toEqual([]);
    expect(await world.webhookCalls()).toEqual([]);
    expect(await world.verdict()).toMatchObject({
      status: 'inconclusive',
      reason: expect.stringContaining('inconclusive (underpowered): needs 2665 more requests'),
      action: { type: 'none' },
    });
  });

  it.each([
    [
      'an API 500',
      { status: 500, body: '{"errors":[{"code":10000,"message":"internal"}]}' },
      'SQL API answered 500',
    ],
    ['malformed JSON', { body: '{"meta": [' }, 'SQL API answered non-JSON'],
    ['JSON of the wrong shape', { json: { result: [] } }, 'SQL API answer has an unexpected shape'],
  ])('makes no change on %s, and reports it exactly once', async (_, answer, error) => {
    const world = await guardWorld();
    const { handler, reports, logger } = observedHandler();
    await world.putConfig({ version: 5 });
    await world.answer([{ sql: RECENT_SQL, answer }]);
    await world.run(handler, T);
    await world.run(handler, T + 60_000);

    expect((await world.config()).version).toBe(5);
    expect(await world.audit()).toEqual([]);
    expect(await world.webhookCalls()).toEqual([]);
    expect(reports).toEqual([
      { kind: 'error', message: expect.stringContaining(`guard cannot read Analytics Engine: ${error}`) },
    ]);
    expect(logger.lines.filter((line) => line.level === 'error')).toHaveLength(1);
    expect(await world.verdict()).toMatchObject({
      status: 'unknown',
      reason: expect.stringContaining(error),
    });
    // Two runs, each sending the cohort-stats and the traffic-split query.
    expect(await world.queries()).toHaveLength(4);
  });

  it('is disabled without SQL API credentials, says so once, and touches nothing', async () => {
    const world = await guardWorld({ CF_API_TOKEN: '' });
    const { handler, logger } = observedHandler();
    await world.putConfig({ version: 5 });
    await world.answer([{ sql: RECENT_SQL, answer: statsAnswer({ requests: 1200, errors: 96 }) }]);
    await world.run(handler, T);
    await world.run(handler, T + 60_000);

    expect(logger.lines).toEqual([
      {
        level: 'warn',
        message: 'guard disabled',
        fields: { reason: expect.stringContaining('CF_API_TOKEN') },
      },
    ]);
    expect(await world.queries()).toEqual([]);
    expect(await world.verdict()).toBeNull();
    expect((await world.config()).rollout.state).toBe('ramping');
  });
});
