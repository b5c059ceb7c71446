import type { BusinessRoute } from '../../src/config/config-schema';
import type { RequestMetric } from '../../src/metrics/data-point-schema';
import type { MetricsSink } from '../../src/ports';

/** Test-only helpers for the core (src/): fixtures that production code never needs. */

/**
 * The business routes of the invoicing app the launch plan describes (the same routes as
 * scripts/demo/demo-config.json). Email delivery is not here: the Worker only sees the send
 * request, the mail provider's webhook reports delivery through `POST /__rollout/events`.
 */
export const EXAMPLE_ROUTES: readonly BusinessRoute[] = [
  { name: 'invoice_created', method: 'POST', pattern: '/api/invoices', success: '2xx' },
  { name: 'template_used', method: 'POST', pattern: '/api/templates/:id/use', success: '2xx' },
  { name: 'email_sent', method: 'POST', pattern: '/api/invoices/:id/send', success: '2xx' },
  { name: 'file_upload', method: 'POST', pattern: '/api/files', success: '2xx' },
];

/**
 * Every `Set-Cookie` of a header list, each on its own. Iterating Headers may fold them into
 * one comma-joined value, which breaks cookies whose `Expires` contains a comma.
 */
export function setCookies(headers: Headers): string[] {
  // Some type packages (pulled in by dependencies) predate getSetCookie; every runtime we run on has it.
  return (headers as Headers & { getSetCookie(): string[] }).getSetCookie();
}

/** A metrics sink that keeps every metric in memory. */
export class RecordingMetricsSink implements MetricsSink {
  readonly metrics: RequestMetric[] = [];
  record(metric: RequestMetric): void {
    this.metrics.push(metric);
  }
}
