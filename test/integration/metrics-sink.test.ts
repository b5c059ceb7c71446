import { env } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import {
  BLOB_COLUMNS,
  DOUBLE_COLUMNS,
  toDataPoint,
  type DataPoint,
} from '../../src/metrics/data-point-schema';
import { EXAMPLE_ROUTES, RecordingMetricsSink } from '../support/core-fixtures';
import type { MetricsSink } from '../../src/ports';
import { AnalyticsEngineSink, metricsSinkFor } from '../../worker/shared/metrics-sinks';
import type { EchoBody } from '../support/loopback/echo-origin';
import { configAt, putConfig, RecordingLogger, testApp } from '../support/in-workerd/test-app';

/** An Analytics Engine dataset that keeps what the Worker wrote (the local one drops it). */
class RecordingDataset {
  readonly points: DataPoint[] = [];
  writeDataPoint(point?: AnalyticsEngineDataPoint): void {
    this.points.push(point as DataPoint);
  }
}

const blob = (point: DataPoint, column: keyof typeof BLOB_COLUMNS) =>
  point.blobs[Number(BLOB_COLUMNS[column].slice('blob'.length)) - 1];
const double = (point: DataPoint, column: keyof typeof DOUBLE_COLUMNS) =>
  point.doubles[Number(DOUBLE_COLUMNS[column].slice('double'.length)) - 1];

async function appWithDataset(percent: number, extra: Record<string, unknown> = {}) {
  const dataset = new RecordingDataset();
  const logger = new RecordingLogger();
  const app = testApp({ deps: { metrics: new AnalyticsEngineSink(dataset, logger), logger } });
  await putConfig(app.kv, configAt(percent, { routes: EXAMPLE_ROUTES, ...extra }));
  return { ...app, dataset, logger };
}

describe('one Analytics Engine data point per request', () => {
  it('writes the cohort, status, outcome and business route of a request in schema column order', async () => {
    const { request, dataset } = await appWithDataset(100);
    const response = await request('/api/invoices?draft=1', { method: 'POST', body: '{"total":12}' });
    expect(response.status).toBe(200);
    expect(dataset.points).toHaveLength(1);
    const point = dataset.points[0]!;
    expect(point.indexes).toEqual(['canary']);
    // Literal positions: the stored column order is a contract with every query ever written.
    expect(point.blobs.slice(0, 7)).toEqual([
      'canary',
      '1',
      'test-version',
      'POST',
      'invoice_created',
      '2xx',
      'ok',
    ]);
    expect(point.blobs.slice(9)).toEqual(['success', 'canary']);
    expect(point.doubles[2]).toBe(200);
    expect(point.doubles[3]).toBe(0);
    expect(point.doubles[4]).toBe(1);
    expect(blob(point, 'route')).toBe('invoice_created');
    expect(double(point, 'status')).toBe(200);
  });

  it('names requests outside the business routes `other`, with no route result', async () => {
    const { request, dataset } = await appWithDataset(0);
    await request('/pricing');
    await request('/api/invoices'); // GET: the business route is POST only
    expect(
      dataset.points.map((point) => [
        blob(point, 'cohort'),
        blob(point, 'route'),
        blob(point, 'routeResult'),
      ]),
    ).toEqual([
      ['stable', 'other', 'none'],
      ['stable', 'other', 'none'],
    ]);
  });

  it('judges a business route by the status the visitor got, by its success rule', async () => {
    const routes = [
      { name: 'status_probe', method: 'POST', pattern: '/status/:code', success: '2xx' },
      { name: 'redirect_probe', method: 'GET', pattern: '/redirect', success: '2xx-3xx' },
    ];
    const { request, metrics, kv } = testApp();
    await putConfig(kv, configAt(0, { routes }));
    await request('/status/201', { method: 'POST', body: 'x' });
    await request('/status/503', { method: 'POST', body: 'x' });
    await request('/redirect');
    expect(
      metrics.metrics.map(({ route, status, routeSuccess, outcome }) => ({
        route,
        status,
        routeSuccess,
        outcome,
      })),
    ).toEqual([
      { route: 'status_probe', status: 201, routeSuccess: true, outcome: 'ok' },
      { route: 'status_probe', status: 503, routeSuccess: false, outcome: 'error' },
      { route: 'redirect_probe', status: 302, routeSuccess: true, outcome: 'ok' },
    ]);
  });

  it('records a canary 503 on a GET served by stable as one failover point charged to the canary', async () => {
    const { request, dataset } = await appWithDataset(100, {
      failover: { statuses: [503], timeoutMs: 2000 },
    });
    const response = await request('/status/503');
    expect(response.headers.get('x-rollout-cohort')).toBe('stable');
    expect(dataset.points).toHaveLength(1);
    const point = dataset.points[0]!;
    expect(point.indexes).toEqual(['stable']);
    expect(blob(point, 'cohort')).toBe('stable');
    expect(blob(point, 'assignedCohort')).toBe('canary');
    expect(blob(point, 'outcome')).toBe('failover');
    expect(double(point, 'failover')).toBe(1);
  });

  it('serves the visitor from stable with a 200 when the canary origin refuses connections', async () => {
    const { request, dataset } = await appWithDataset(100, {
      origins: { stable: `http://127.0.0.1:${inject('stablePort')}`, canary: 'http://127.0.0.1:1' },
    });
    const response = await request('/dashboard');
    expect(response.status).toBe(200);
    expect(((await response.json()) as EchoBody).origin).toBe('stable');
    expect(blob(dataset.points[0]!, 'outcome')).toBe('failover');
  });

  it('still gives the visitor a 200 when writeDataPoint throws, and logs the failure', async () => {
    const logger = new RecordingLogger();
    const throwing = {
      writeDataPoint(): void {
        throw new Error('analytics engine unavailable');
      },
    };
    const { request } = testApp({ deps: { metrics: new AnalyticsEngineSink(throwing, logger), logger } });
    const response = await request('/hello');
    expect(response.status).toBe(200);
    expect(((await response.json()) as EchoBody).path).toBe('/hello');
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'analytics engine write failed' }),
    );
  });

  it('wires the Miniflare METRICS binding from wrangler.toml to the Analytics Engine sink', async () => {
    const logger = new RecordingLogger();
    const metrics = metricsSinkFor((env as unknown as ControlEnv).METRICS, logger);
    expect(metrics).toBeInstanceOf(AnalyticsEngineSink);
    const { request } = testApp({ deps: { metrics, logger } });
    expect((await request('/hello')).status).toBe(200);
    expect(logger.lines.filter((line) => line.message === 'analytics engine write failed')).toEqual([]);
  });

  it('writes exactly what toDataPoint encodes from the metric the splitter recorded', async () => {
    const dataset = new RecordingDataset();
    const recording = new RecordingMetricsSink();
    const sink = new AnalyticsEngineSink(dataset, new RecordingLogger());
    const tee: MetricsSink = {
      record(metric) {
        recording.record(metric);
        sink.record(metric);
      },
    };
    const { request, kv } = testApp({ deps: { metrics: tee } });
    await putConfig(kv, configAt(100, { routes: EXAMPLE_ROUTES }));
    await request('/api/templates/7/use', { method: 'POST', body: '{}' });
    expect(recording.metrics[0]).toMatchObject({
      route: 'template_used',
      routeSuccess: true,
      cohort: 'canary',
    });
    expect(dataset.points).toEqual(recording.metrics.map(toDataPoint));
  });
});
