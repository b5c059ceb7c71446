import { describe, expect, it } from 'vitest';
import { toDataPoint, type RequestMetric } from '../../src/metrics/data-point-schema';
import { CollectorSink, collectorSinkFor } from '../../worker/shared/metrics-sinks';
import { RecordingLogger } from '../support/in-workerd/test-app';

const METRIC: RequestMetric = {
  cohort: 'canary',
  assignedCohort: 'canary',
  configVersion: 3,
  workerVersion: 'w1',
  method: 'GET',
  route: 'other',
  status: 200,
  outcome: 'ok',
  colo: 'local',
  country: 'XX',
  totalMs: 12,
  upstreamMs: 8,
  failover: false,
};

/** A sink whose posts are held until the test settles them, with what it kept alive. */
function heldSink() {
  const posts: { url: string; init: RequestInit; settle: (answer: Response | Error) => void }[] = [];
  const kept: Promise<unknown>[] = [];
  const logger = new RecordingLogger();
  const sink = new CollectorSink({
    url: 'http://127.0.0.1:9/points',
    logger,
    fetch: (url, init) =>
      new Promise<Response>((resolve, reject) =>
        posts.push({
          url,
          init,
          settle: (answer) => (answer instanceof Error ? reject(answer) : resolve(answer)),
        }),
      ),
    waitUntil: (promise) => kept.push(promise),
  });
  return { sink, posts, kept, logger };
}

describe('the local collector sink (METRICS_COLLECTOR_URL)', () => {
  it('returns before the post finishes, posts the Analytics Engine data point, and keeps the post alive with waitUntil', async () => {
    const { sink, posts, kept } = heldSink();
    sink.record(METRIC);
    // record() has returned while the post is still open: it never blocks a request.
    expect(posts).toHaveLength(1);
    expect(kept).toHaveLength(1);
    expect(posts[0]!.url).toBe('http://127.0.0.1:9/points');
    expect(posts[0]!.init.method).toBe('POST');
    expect(JSON.parse(String(posts[0]!.init.body))).toEqual(toDataPoint(METRIC));
    posts[0]!.settle(new Response(null, { status: 202 }));
    await Promise.all(kept);
  });

  it('logs one warning per outage when the collector is down, never throws, and logs again after a recovery', async () => {
    const { sink, posts, kept, logger } = heldSink();
    sink.record(METRIC);
    sink.record(METRIC);
    posts[0]!.settle(new TypeError('connection refused'));
    posts[1]!.settle(new Response('no', { status: 500 }));
    await Promise.all(kept);
    expect(logger.lines.filter((line) => line.message === 'metrics collector write failed')).toHaveLength(1);
    sink.record(METRIC);
    posts[2]!.settle(new Response(null, { status: 202 }));
    await Promise.all(kept);
    sink.record(METRIC);
    posts[3]!.settle(new TypeError('connection refused'));
    await Promise.all(kept);
    expect(logger.lines.filter((line) => line.message === 'metrics collector write failed')).toHaveLength(2);
  });

  it.each([
    ['https://127.0.0.1:8790/points'],
    ['http://collector.example.com/points'],
    ['http://10.0.0.5:8790/points'],
    ['not a url'],
  ])('refuses %s (only http on loopback), logging why, so the normal sink stays', (value) => {
    const logger = new RecordingLogger();
    expect(collectorSinkFor(value, logger)).toBeUndefined();
    expect(logger.lines).toEqual([
      expect.objectContaining({ level: 'warn', message: 'metrics collector ignored' }),
    ]);
  });

  it('is not selected when the var is unset or empty, and is for a loopback URL', () => {
    const logger = new RecordingLogger();
    expect(collectorSinkFor(undefined, logger)).toBeUndefined();
    expect(collectorSinkFor('', logger)).toBeUndefined();
    expect(collectorSinkFor('http://127.0.0.1:8790/points', logger)).toBeInstanceOf(CollectorSink);
    expect(logger.lines).toEqual([]);
  });
});
