import type { RequestMetric } from '../metrics/request-metric';

/** Where per-request metrics go (Analytics Engine in production). Must not throw or block. */
export interface MetricsSink {
  record(metric: RequestMetric): void;
}

/** A sink that keeps every metric in memory, for tests and the local demo. */
export class RecordingMetricsSink implements MetricsSink {
  readonly metrics: RequestMetric[] = [];
  record(metric: RequestMetric): void {
    this.metrics.push(metric);
  }
}
