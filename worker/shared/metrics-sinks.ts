import { waitUntil } from 'cloudflare:workers';
import { toDataPoint, type RequestMetric } from '../../src/metrics/data-point-schema';
import type { Logger, MetricsSink } from '../../src/ports';

/**
 * Local runs only: a metrics sink that posts each data point to a collector on the loopback
 * interface (`npm start` runs one, scripts/demo/collector.mjs), which also answers the guard's
 * SQL the way the Analytics Engine SQL API would. It is selected by the `METRICS_COLLECTOR_URL`
 * var, which no deployed environment sets; anything but a loopback address is refused, so a
 * stray value can never ship request data off the machine.
 */

/** The sink's options. */
export interface CollectorSinkOptions {
  /** Where data points are posted, e.g. `http://127.0.0.1:8790/points`. */
  url: string;
  logger: Logger;
  /** The `fetch` to post with (the runtime's, or a test's). */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Keeps the post alive after the response (the runtime's `waitUntil`, or a test's). */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Bound on one post. */
  timeoutMs?: number;
}

/**
 * Posts one data point per metric, encoded by `toDataPoint` like the Analytics Engine sink.
 * `record` returns at once: the post runs under `waitUntil`, and a failed post is logged (once
 * until the collector answers again), never thrown, so it can neither block nor fail a request.
 *
 * @example
 * const sink = new CollectorSink({ url: 'http://127.0.0.1:8790/points', logger });
 * sink.record(metric); // returns immediately
 */
export class CollectorSink implements MetricsSink {
  private failing = false;
  private readonly post: (input: string, init: RequestInit) => Promise<Response>;
  private readonly keepAlive: (promise: Promise<unknown>) => void;
  private readonly timeoutMs: number;

  constructor(private readonly options: CollectorSinkOptions) {
    this.post = options.fetch ?? ((input, init) => fetch(input, init));
    this.keepAlive = options.waitUntil ?? waitUntil;
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  record(metric: RequestMetric): void {
    try {
      const body = JSON.stringify(toDataPoint(metric));
      const sent = this.post(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      }).then(
        async (response) => {
          await response.body?.cancel();
          this.settled(response.ok ? undefined : `collector answered ${response.status}`);
        },
        (error: unknown) => this.settled(String((error as Error)?.message ?? error)),
      );
      this.keepAlive(sent);
    } catch (error) {
      this.settled(String(error));
    }
  }

  // One warning per outage: a stopped collector must not flood the log with one line per request.
  private settled(error: string | undefined): void {
    if (error === undefined) {
      this.failing = false;
      return;
    }
    if (this.failing) return;
    this.failing = true;
    this.options.logger.warn('metrics collector write failed', { error });
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The collector sink for a `METRICS_COLLECTOR_URL` value; undefined when the var is unset, or
 * when it is not an http URL on the loopback interface (logged, and the caller keeps its normal
 * sink). `options` may name the `waitUntil` (a cron run passes its own context's) and `fetch`.
 *
 * @example
 * const metrics = collectorSinkFor(env.METRICS_COLLECTOR_URL, logger) ?? metricsSinkFor(env.METRICS, logger);
 */
export function collectorSinkFor(
  value: string | undefined,
  logger: Logger,
  options: Pick<CollectorSinkOptions, 'fetch' | 'waitUntil'> = {},
): MetricsSink | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname)) {
    logger.warn('metrics collector ignored', {
      reason: 'METRICS_COLLECTOR_URL must be an http:// URL on 127.0.0.1 (local runs only)',
    });
    return undefined;
  }
  return new CollectorSink({ ...options, url: url.href, logger });
}

/**
 * The sink a Worker's env asks for: the local collector when `METRICS_COLLECTOR_URL` is set (the
 * demo), Analytics Engine otherwise. The splitter and the uptime probes both write through it.
 *
 * @example
 * const metrics = metricsSinkForEnv(env, logger);
 */
export function metricsSinkForEnv(
  env: { METRICS?: AnalyticsEngineDataset; METRICS_COLLECTOR_URL?: string },
  logger: Logger,
  options: Pick<CollectorSinkOptions, 'fetch' | 'waitUntil'> = {},
): MetricsSink {
  return collectorSinkFor(env.METRICS_COLLECTOR_URL, logger, options) ?? metricsSinkFor(env.METRICS, logger);
}

/**
 * Writes one Analytics Engine data point per metric, encoded by `toDataPoint` (the single source
 * of column order). `writeDataPoint` is synchronous and fire-and-forget in the runtime, so it is
 * called inline, never awaited; a throwing binding is logged and the request goes on.
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
const discardingMetricsSink: MetricsSink = { record: () => {} };

/** The sink for an env: Analytics Engine when the binding exists, otherwise one that discards. */
export function metricsSinkFor(dataset: AnalyticsEngineDataset | undefined, logger: Logger): MetricsSink {
  return dataset ? new AnalyticsEngineSink(dataset, logger) : discardingMetricsSink;
}
