import * as z from 'zod/mini';
import { RouteNameSchema, type RolloutConfig } from '../config/config-schema';
import type { Clock } from '../ports';
import type { RequestMetric } from './data-point-schema';

/** The `method` blob of data points that record reported events rather than requests. */
export const EVENT_METHOD = 'EVENT';

/** Event types every config accepts, besides its business route names. */
export const BUILT_IN_EVENT_TYPES = ['email_delivery', 'file_upload'] as const;

/** At most this many events per body; each batch stays far below Analytics Engine's 250 writes. */
export const MAX_EVENTS_PER_BODY = 100;

/** One outcome the Worker cannot see, reported by the app or a provider's webhook. */
export const OutcomeEventSchema = z.strictObject({
  type: RouteNameSchema,
  cohort: z.enum(['stable', 'canary']),
  success: z.boolean(),
  count: z._default(z.int().check(z.gte(1), z.lte(1000)), 1),
});

/** The body of `POST /__rollout/events`. */
export const OutcomeEventsBodySchema = z.strictObject({
  events: z.array(OutcomeEventSchema).check(z.minLength(1), z.maxLength(MAX_EVENTS_PER_BODY)),
});

/** One validated event. */
export type OutcomeEvent = z.infer<typeof OutcomeEventSchema>;

/**
 * Issues for event types that are neither built in nor a business route of the config, in the
 * same `path: message` form as schema issues. Unknown types are refused rather than stored so
 * a typo cannot open a new, never-charted series.
 *
 * @example
 * unknownEventTypes([{ type: 'emial_delivery', ... }], config); // ['events.0.type: unknown event type …']
 */
export function unknownEventTypes(
  events: readonly OutcomeEvent[],
  config: Pick<RolloutConfig, 'routes'>,
): string[] {
  const known = new Set<string>([...BUILT_IN_EVENT_TYPES, ...config.routes.map((route) => route.name)]);
  return events.flatMap((event, index) =>
    known.has(event.type)
      ? []
      : [
          `events.${index}.type: unknown event type '${event.type}' (expected one of ${[...known].join(', ')})`,
        ],
  );
}

/** What the metrics of reported events carry besides the events themselves. */
export interface EventMetricContext {
  configVersion: number;
  workerVersion: string;
  colo: string;
  country: string;
}

/**
 * Turns reported events into metrics, one per (type, cohort, success) with the counts summed
 * into `occurrences`, so a batch of 100 identical events is one data point.
 */
export function eventMetrics(events: readonly OutcomeEvent[], context: EventMetricContext): RequestMetric[] {
  const grouped = new Map<string, RequestMetric>();
  for (const event of events) {
    const key = `${event.type}|${event.cohort}|${event.success}`;
    const existing = grouped.get(key);
    if (existing) {
      existing.occurrences = (existing.occurrences ?? 0) + event.count;
      continue;
    }
    grouped.set(key, {
      cohort: event.cohort,
      assignedCohort: event.cohort,
      configVersion: context.configVersion,
      workerVersion: context.workerVersion,
      method: EVENT_METHOD,
      route: event.type,
      status: 0,
      outcome: event.success ? 'ok' : 'error',
      routeSuccess: event.success,
      colo: context.colo,
      country: context.country,
      totalMs: 0,
      upstreamMs: 0,
      failover: false,
      occurrences: event.count,
    });
  }
  return [...grouped.values()];
}

/** The answer of {@link FixedWindowLimiter.tryTake}. */
export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * An in-isolate budget of `limit` units per fixed window. It protects downstream writes from
 * one isolate's bursts; it is not a global quota (each isolate has its own window).
 *
 * @example
 * const limiter = new FixedWindowLimiter({ limit: 600, windowMs: 60_000, clock: systemClock });
 * if (!limiter.tryTake(events.length).ok) return tooManyRequests();
 */
export class FixedWindowLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;

  constructor(private readonly options: { limit: number; windowMs: number; clock: Clock }) {}

  /** Takes `units` from the current window, all or nothing. */
  tryTake(units = 1): TakeResult {
    const now = this.options.clock.now();
    if (now - this.windowStart >= this.options.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used + units > this.options.limit) {
      const retryAfterMs = this.windowStart + this.options.windowMs - now;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
    }
    this.used += units;
    return { ok: true };
  }
}
