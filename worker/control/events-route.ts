import { Hono } from 'hono/tiny';
import { parseJsonText } from '../../src/config/parse-config';
import { readLimitedText } from '../../src/encoding';
import {
  eventMetrics,
  FixedWindowLimiter,
  OutcomeEventsBodySchema,
  unknownEventTypes,
} from '../../src/metrics/outcome-events';
import type { ControlDeps } from './control-deps';

/** What the events route needs from the app's deps. */
export type EventsRouteDeps = Pick<ControlDeps, 'store' | 'metrics' | 'clock' | 'logger' | 'workerVersion'>;

/** Bodies above this size are refused before parsing; 100 events fit in a few KiB. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * `POST /events`: outcomes the Worker cannot see (email delivered or bounced, an upload that
 * failed after the request) recorded per cohort through the metrics sink, as data points with
 * method `EVENT`. It has no auth of its own: mount it behind the admin API's.
 * A per-isolate budget (`eventsPerMinute` events) answers 429 with Retry-After when spent.
 *
 * @example
 * admin.route('/', eventsRoute(deps)); // → POST /__rollout/events
 */
export function eventsRoute(
  deps: EventsRouteDeps,
  { eventsPerMinute = 600 }: { eventsPerMinute?: number } = {},
) {
  const limiter = new FixedWindowLimiter({ limit: eventsPerMinute, windowMs: 60_000, clock: deps.clock });
  const app = new Hono();
  app.post('/events', async function recordEvents(c) {
    const read = await readLimitedText(c.req.raw, MAX_BODY_BYTES);
    if (!read.ok && read.reason === 'too-large')
      return c.json({ error: 'body too large', maxBytes: MAX_BODY_BYTES }, 413);
    if (!read.ok) return c.json({ error: 'invalid events', issues: ['body is not valid UTF-8'] }, 400);
    const parsed = parseJsonText(read.text, OutcomeEventsBodySchema, 'body');
    if (!parsed.ok) return c.json({ error: 'invalid events', issues: parsed.issues }, 400);
    const { events } = parsed.value;
    const snapshot = await deps.store.read();
    const unknown = unknownEventTypes(events, snapshot.config);
    if (unknown.length > 0) return c.json({ error: 'invalid events', issues: unknown }, 400);

    const taken = limiter.tryTake(events.length);
    if (!taken.ok) {
      c.header('retry-after', String(taken.retryAfterSeconds));
      return c.json({ error: 'too many events', limitPerMinute: eventsPerMinute }, 429);
    }
    const cf = (c.req.raw as { cf?: { colo?: unknown; country?: unknown } }).cf;
    const metrics = eventMetrics(events, {
      configVersion: snapshot.config.version,
      workerVersion: deps.workerVersion,
      colo: typeof cf?.colo === 'string' ? cf.colo : 'local',
      country: typeof cf?.country === 'string' ? cf.country : 'XX',
    });
    for (const metric of metrics) deps.metrics.record(metric);
    return c.json({ accepted: events.length, dataPoints: metrics.length }, 202);
  });
  return app;
}
