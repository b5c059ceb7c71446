import { describe, expect, it } from 'vitest';
import worker from '../../worker/control/index';
import { RECENT_SQL, RECENT_TRAFFIC_SQL, guardWorld, statsAnswer } from '../support/fake-sql-api/guard-world';

const T = Date.UTC(2026, 10, 25, 12, 3, 0);

describe('guard: a breaching canary (worker.scheduled, real KV, fake SQL API, webhook receiver)', () => {
  it('aborts within one run: config aborted, one audit entry by the guard, one webhook call', async () => {
    const world = await guardWorld();
    await world.putConfig({ version: 5 });
    await world.answer([
      { sql: RECENT_SQL, answer: statsAnswer({ requests: 1200, errors: 96, p95Ms: 450 }) },
    ]);

    await world.run(worker.scheduled, T);

    const config = await world.config();
    expect(config.rollout).toMatchObject({ state: 'aborted', percent: 0 });
    expect(config.version).toBe(6);
    const audit = await world.audit();
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'guard',
        action: 'abort',
        version: 6,
        reason: expect.stringMatching(
          /^guard: canary error rate 8\.00 % > 1\.00 % \(max of 1 % and stable \+ 0\.5 points\): 96 errors in 1200 requests over last 5 min/,
        ),
      }),
    ]);
    const calls = await world.webhookCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.text).toContain('guard aborted the canary at 10 %');
    expect(JSON.stringify(calls[0]!.blocks)).toContain('canary error rate 8.00 % &gt; 1.00 %');
    expect(await world.verdict()).toMatchObject({
      status: 'breach',
      at: new Date(T).toISOString(),
      numbers: { canary: { requests: 1200, errors: 96, errorRatePercent: 8 } },
      action: { type: 'aborted', version: 6 },
    });
    expect(await world.incident()).toMatchObject({ configVersion: 5, abortedVersion: 6 });
    const queries = await world.queries();
    expect(queries).toEqual(
      [RECENT_SQL, RECENT_TRAFFIC_SQL].map((sql) => ({
        method: 'POST',
        authorization: 'Bearer e2e-analytics-read-token',
        contentType: 'text/plain',
        sql,
      })),
    );
  });

  it('does not notify or abort again for an already-aborted canary', async () => {
    const world = await guardWorld();
    await world.putConfig({ version: 5 });
    await world.answer([{ sql: RECENT_SQL, answer: statsAnswer({ requests: 1200, errors: 96 }) }]);
    await world.run(worker.scheduled, T);
    await world.run(worker.scheduled, T + 60_000);
    await world.run(worker.scheduled, T + 120_000);

    expect(await world.webhookCalls()).toHaveLength(1);
    expect(await world.audit()).toHaveLength(1);
    expect((await world.config()).version).toBe(6);
    // An aborted canary is not even queried: only the first run's two queries were sent.
    expect(await world.queries()).toHaveLength(2);
  });

  it('judges the committed version, so a lagging KV replica cannot make it abort or notify twice', async () => {
    const world = await guardWorld();
    const ramping = await world.putConfig({ version: 5 });
    await world.answer([{ sql: RECENT_SQL, answer: statsAnswer({ requests: 1200, errors: 96 }) }]);
    await world.run(worker.scheduled, T);
    // KV in another location can serve the old value for up to ~60 s; the guard reads the
    // control plane, which holds the abort.
    await world.kv.put('config', JSON.stringify(ramping));
    await world.run(worker.scheduled, T + 60_000);

    expect(await world.webhookCalls()).toHaveLength(1);
    expect(await world.audit()).toHaveLength(1);
    expect(await world.incident()).toMatchObject({ configVersion: 5, abortedVersion: 6 });
  });

  it('sends nothing at all for a canary that was already aborted before the run', async () => {
    const world = await guardWorld();
    await world.putConfig({ version: 9, rollout: { state: 'aborted', percent: 0 } });
    await world.answer([{ sql: RECENT_SQL, answer: statsAnswer({ requests: 1200, errors: 96 }) }]);
    await world.run(worker.scheduled, T);

    expect(await world.webhookCalls()).toEqual([]);
    expect(await world.audit()).toEqual([]);
    expect(await world.queries()).toEqual([]);
    expect((await world.config()).version).toBe(9);
  });

  it('ignores verdict and incident keys left in KV by 0.1 (even corrupt ones) and still aborts', async () => {
    const world = await guardWorld();
    await world.putConfig({ version: 5 });
    await world.kv.put('guard:verdict', 'not json');
    await world.kv.put('guard:incident', JSON.stringify({ configVersion: 'five' }));
    await world.answer([{ sql: RECENT_SQL, answer: statsAnswer({ requests: 1200, errors: 96 }) }]);
    await world.run(worker.scheduled, T);

    expect((await world.config()).rollout.state).toBe('aborted');
    expect(await world.webhookCalls()).toHaveLength(1);
    expect(await world.incident()).toMatchObject({ configVersion: 5, abortedVersion: 6 });
    expect(await world.verdict()).toMatchObject({ status: 'breach' });
  });

  it('still aborts when the webhook fails', async () => {
    const world = await guardWorld();
    await world.webhookAnswers(500);
    await world.putConfig({ version: 5 });
    await world.answer([
      { sql: RECENT_SQL, answer: statsAnswer({ requests: 1200, errors: 10, p95Ms: 2600 }) },
    ]);
    await world.run(worker.scheduled, T);

    expect((await world.config()).rollout.state).toBe('aborted');
    expect(await world.webhookCalls()).toHaveLength(1);
    expect(await world.audit()).toEqual([
      expect.objectContaining({
        actor: 'guard',
        reason: expect.stringContaining('canary p95 2600 ms > 2000 ms'),
      }),
    ]);
  });
});
