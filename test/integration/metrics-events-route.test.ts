import { env } from 'cloudflare:workers';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_ROUTES } from '../support/core-fixtures';
import { eventsRoute } from '../../worker/control/events-route';
import { configAt, putConfig, testApp } from '../support/in-workerd/test-app';

/** The events sub-app mounted where the admin API will mount it. */
async function eventsApp(options: { eventsPerMinute?: number; routes?: unknown[] } = {}) {
  const app = testApp();
  await putConfig(app.kv, configAt(10, { routes: options.routes ?? EXAMPLE_ROUTES }));
  const host = new Hono().route(
    '/__rollout',
    eventsRoute(app.deps, { eventsPerMinute: options.eventsPerMinute }),
  );
  const post = (body: unknown) =>
    host.request(
      '/__rollout/events',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      },
      env as unknown as ControlEnv,
    );
  return { ...app, post };
}

const delivery = (cohort: 'stable' | 'canary', success: boolean, count?: number) => ({
  type: 'email_delivery',
  cohort,
  success,
  ...(count === undefined ? {} : { count }),
});

describe('POST /__rollout/events', () => {
  it('records reported outcomes per cohort as EVENT data points, folding identical events into one', async () => {
    const { post, metrics } = await eventsApp();
    const response = await post({
      events: [
        delivery('canary', true, 40),
        delivery('canary', true, 2),
        delivery('canary', false, 3),
        delivery('stable', true),
        { type: 'invoice_created', cohort: 'stable', success: true },
      ],
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: 5, dataPoints: 4 });
    expect(
      metrics.metrics.map(
        ({ method, route, cohort, assignedCohort, routeSuccess, occurrences, configVersion }) => ({
          method,
          route,
          cohort,
          assignedCohort,
          routeSuccess,
          occurrences,
          configVersion,
        }),
      ),
    ).toEqual([
      {
        method: 'EVENT',
        route: 'email_delivery',
        cohort: 'canary',
        assignedCohort: 'canary',
        routeSuccess: true,
        occurrences: 42,
        configVersion: 1,
      },
      {
        method: 'EVENT',
        route: 'email_delivery',
        cohort: 'canary',
        assignedCohort: 'canary',
        routeSuccess: false,
        occurrences: 3,
        configVersion: 1,
      },
      {
        method: 'EVENT',
        route: 'email_delivery',
        cohort: 'stable',
        assignedCohort: 'stable',
        routeSuccess: true,
        occurrences: 1,
        configVersion: 1,
      },
      {
        method: 'EVENT',
        route: 'invoice_created',
        cohort: 'stable',
        assignedCohort: 'stable',
        routeSuccess: true,
        occurrences: 1,
        configVersion: 1,
      },
    ]);
  });

  it.each([
    ['a body that is not JSON', '{"events": [', /not valid JSON/],
    ['an unknown field', { events: [{ ...delivery('canary', true), extra: 1 }] }, /events\.0/],
    ['an unknown cohort', { events: [{ ...delivery('canary', true), cohort: 'beta' }] }, /events\.0\.cohort/],
    ['a count of 0', { events: [delivery('canary', true, 0)] }, /events\.0\.count/],
    ['a count above 1000', { events: [delivery('canary', true, 1001)] }, /events\.0\.count/],
    [
      'more than 100 events',
      { events: Array.from({ length: 101 }, () => delivery('stable', true)) },
      /events/,
    ],
    ['no events', { events: [] }, /events/],
    [
      'a type that is neither built in nor a configured route',
      { events: [{ ...delivery('canary', true), type: 'emial_delivery' }] },
      /unknown event type 'emial_delivery'/,
    ],
  ])('answers 400 with the issues and records nothing for %s', async (_name, body, issue) => {
    const { post, metrics } = await eventsApp();
    const response = await post(body);
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: string; issues: string[] };
    expect(answer.error).toBe('invalid events');
    expect(answer.issues.join('\n')).toMatch(issue);
    expect(metrics.metrics).toEqual([]);
  });

  it('accepts a business route name only when the current config declares that route', async () => {
    const { post, metrics } = await eventsApp({ routes: [] });
    const refused = await post({ events: [{ type: 'invoice_created', cohort: 'canary', success: true }] });
    expect(refused.status).toBe(400);
    const accepted = await post({ events: [{ type: 'file_upload', cohort: 'canary', success: false }] });
    expect(accepted.status).toBe(202);
    expect(metrics.metrics.map((metric) => metric.route)).toEqual(['file_upload']);
  });

  it('answers 429 with Retry-After once the per-minute event budget is spent, and accepts again after the window', async () => {
    const { post, metrics, clock } = await eventsApp({ eventsPerMinute: 250 });
    const batch = {
      events: Array.from({ length: 100 }, (_, i) => delivery(i % 2 ? 'canary' : 'stable', true)),
    };
    expect((await post(batch)).status).toBe(202);
    expect((await post(batch)).status).toBe(202);
    clock.advance(20_000);
    const limited = await post(batch);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('40');
    const recordedBeforeLimit = metrics.metrics.length;
    clock.advance(40_000);
    expect((await post(batch)).status).toBe(202);
    expect(metrics.metrics.length).toBe(recordedBeforeLimit + 2);
  });

  it('refuses a streamed body without Content-Length once it passes 64 KiB, without reading the rest', async () => {
    const app = testApp();
    await putConfig(app.kv, configAt(10, { routes: EXAMPLE_ROUTES }));
    const host = new Hono().route('/__rollout', eventsRoute(app.deps));
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        // 1,000 chunks of 16 KiB would be 16 MiB; the reader must stop after about 5.
        if (pulled > 1000) return controller.close();
        controller.enqueue(new Uint8Array(16 * 1024).fill(32));
      },
    });
    const response = await host.request(
      '/__rollout/events',
      // @ts-expect-error duplex is required for a streamed body in some runtimes
      { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' },
      env as unknown as ControlEnv,
    );
    expect(response.status).toBe(413);
    expect(pulled).toBeLessThan(20);
    expect(app.metrics.metrics).toEqual([]);
  });

  it('refuses a body over 64 KiB with 413 before parsing it', async () => {
    const { post, metrics } = await eventsApp();
    const response = await post(`{"events":[],"padding":"${'x'.repeat(70_000)}"}`);
    expect(response.status).toBe(413);
    expect(metrics.metrics).toEqual([]);
  });
});
