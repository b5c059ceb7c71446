import { describe, expect, it } from 'vitest';
import { EXAMPLE_ROUTES } from '../support/core-fixtures';
import {
  eventMetrics,
  OutcomeEventsBodySchema,
  unknownEventTypes,
  type OutcomeEvent,
} from '../../src/metrics/outcome-events';

const context = { configVersion: 3, workerVersion: 'v9', colo: 'AMS', country: 'NL' };

describe('reported outcome events', () => {
  it('defaults count to 1 and refuses unknown fields', () => {
    const parsed = OutcomeEventsBodySchema.safeParse({
      events: [{ type: 'email_delivery', cohort: 'canary', success: true }],
    });
    expect(parsed.success && parsed.data.events[0]!.count).toBe(1);
    expect(OutcomeEventsBodySchema.safeParse({ events: [], note: 'x' }).success).toBe(false);
  });

  it('folds events of the same type, cohort and result into one metric with summed occurrences', () => {
    const events: OutcomeEvent[] = [
      { type: 'email_delivery', cohort: 'canary', success: true, count: 5 },
      { type: 'email_delivery', cohort: 'canary', success: false, count: 1 },
      { type: 'email_delivery', cohort: 'canary', success: true, count: 7 },
    ];
    const metrics = eventMetrics(events, context);
    expect(metrics.map((m) => [m.route, m.cohort, m.routeSuccess, m.occurrences, m.outcome])).toEqual([
      ['email_delivery', 'canary', true, 12, 'ok'],
      ['email_delivery', 'canary', false, 1, 'error'],
    ]);
    expect(metrics[0]).toMatchObject({
      method: 'EVENT',
      status: 0,
      configVersion: 3,
      workerVersion: 'v9',
      colo: 'AMS',
    });
  });

  it('accepts built-in types and configured route names, and names every unknown type with its index', () => {
    const events: OutcomeEvent[] = [
      { type: 'file_upload', cohort: 'stable', success: true, count: 1 },
      { type: 'template_used', cohort: 'stable', success: true, count: 1 },
      { type: 'checkout', cohort: 'stable', success: true, count: 1 },
    ];
    expect(unknownEventTypes(events, { routes: [...EXAMPLE_ROUTES] })).toEqual([
      expect.stringMatching(
        /^events\.2\.type: unknown event type 'checkout' \(expected one of email_delivery, file_upload, invoice_created/,
      ),
    ]);
    expect(unknownEventTypes(events, { routes: [] })).toHaveLength(2);
  });
});
