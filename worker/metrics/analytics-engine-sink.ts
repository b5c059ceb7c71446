import { toDataPoint } from '../../src/metrics/data-point-schema';
import type { RequestMetric } from '../../src/metrics/request-metric';
import type { Logger } from '../../src/ports/logger';
import type { MetricsSink } from '../../src/ports/metrics-sink';

/**
 * Writes one Analytics Engine data point per metric, encoded by `toDataPoint` (the single source
 * of column order). `writeDataPoint` is synchronous and fire-and-forget in the runtime, so it is
 * called inline, never awaited; a throwing binding is logged and the request goes on.
 *
 * @example
 * const metrics = new AnalyticsEngineSink(env.METRICS, logger);
 */
export class AnalyticsEngineSink implements MetricsSink {
  constructor(
    private readonly dataset: Pick<AnalyticsEngineDataset, 'writeDataPoint'>,
    private readonly logger: Logger,
  ) {}

  record(metric: RequestMetric): void {
    try {
      this.dataset.writeDataPoint(toDataPoint(metric));
    } catch (error) {
      this.logger.warn('analytics engine write failed', { error: String(error), route: metric.route });
    }
  }
}

/** A sink that drops everything, for setups without the METRICS binding. */
export const discardingMetricsSink: MetricsSink = { record: () => {} };

/**
 * The sink for an env: Analytics Engine when the binding exists, otherwise one that discards.
 *
 * @example
 * metrics: metricsSinkFor(env.METRICS, logger),
 */
export function metricsSinkFor(dataset: AnalyticsEngineDataset | undefined, logger: Logger): MetricsSink {
  return dataset ? new AnalyticsEngineSink(dataset, logger) : discardingMetricsSink;
}
