import { describe, expect, inject, it } from 'vitest';
import worker from '../../worker/control/index';
import type { ReceivedEnvelope } from '../support/sentry/receiver';
import { RECENT_SQL, guardWorld, statsAnswer } from '../support/fake-sql-api/guard-world';

const T = Date.UTC(2026, 10, 25, 12, 3, 0);

/** A Sentry project of this test's own on the loopback receiver. */
function sentryProject() {
  const project = String(700_000 + Math.floor(Math.random() * 100_000));
  const base = `http://127.0.0.1:${inject('sentryPort')}`;
  return {
    dsn: `http://publickey@127.0.0.1:${inject('sentryPort')}/${project}`,
    received: async () => (await (await fetch(`${base}/received/${project}`)).json()) as ReceivedEnvelope[],
  };
}

function messagesOf(envelopes: ReceivedEnvelope[]): string[] {
  return envelopes.flatMap((envelope) =>
    envelope.items.map((item) => String((item.payload as { message?: unknown }).message ?? '')),
  );
}

describe('guard: Sentry through the production reporter (worker.scheduled, SENTRY_DSN on loopback)', () => {
  it('sends one Sentry message when it aborts the canary, and none on the runs after', async () => {
    const sentry = sentryProject();
    const world = await guardWorld({ SENTRY_DSN: sentry.dsn });
    await world.putConfig({ version: 5 });
    await world.answer([{ sql: RECENT_SQL, answer: statsAnswer({ requests: 1200, errors: 96 }) }]);
    await world.run(worker.scheduled, T);
    await world.run(worker.scheduled, T + 60_000);

    const messages = messagesOf(await sentry.received());
    expect(messages).toEqual([
      expect.stringMatching(/^edge-rollout guard aborted the canary: canary error rate 8\.00 %/),
    ]);
  });

  it('sends one Sentry message for an unreadable SQL API, not one per minute', async () => {
    const sentry = sentryProject();
    const world = await guardWorld({ SENTRY_DSN: sentry.dsn });
    await world.putConfig({ version: 5 });
    await world.answer([{ sql: RECENT_SQL, answer: { status: 503, body: 'upstream unavailable' } }]);
    await world.run(worker.scheduled, T);
    await world.run(worker.scheduled, T + 60_000);
    await world.run(worker.scheduled, T + 120_000);

    expect(messagesOf(await sentry.received())).toEqual([
      'edge-rollout guard cannot read Analytics Engine: SQL API answered 503: upstream unavailable',
    ]);
    expect((await world.config()).version).toBe(5);
  });
});
