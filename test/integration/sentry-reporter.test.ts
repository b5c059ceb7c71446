import { describe, expect, inject, it } from 'vitest';
import { parseSettings } from '../../src/config/settings';
import { nullErrorReporter } from '../../src/ports';
import type { FetchFunction } from '../../src/proxy/proxy-to-origin';
import { errorReporterFactory } from '../../worker/shared/sentry/error-reporter';
import type { ReceivedEnvelope } from '../support/sentry/receiver';
import { configAt, putConfig, RecordingLogger, testApp, testVars } from '../support/in-workerd/test-app';

const SECRETS = ['secret-cookie-value', 'secret-bearer-token', 'secret-query-value', 'secret-fragment'];

let nextProject = 100;

/**
 * An app whose errors go to the loopback Sentry receiver, in a project of its own: the edge
 * relays each report to the control Worker (protocol 4), which sends it with toucan-js.
 */
function sentryApp(vars: Record<string, string> = {}, fetch?: FetchFunction) {
  const project = String(nextProject++);
  const logger = new RecordingLogger();
  const app = testApp({
    vars: {
      SENTRY_DSN: `http://publickey@127.0.0.1:${inject('sentryPort')}/${project}`,
      ENVIRONMENT: 'staging',
      ...vars,
    },
    deps: { logger, workerVersion: 'version-abc123', ...(fetch ? { fetch } : {}) },
  });
  const received = async (): Promise<ReceivedEnvelope[]> =>
    (await (
      await fetch_(`http://127.0.0.1:${inject('sentryPort')}/received/${project}`)
    ).json()) as ReceivedEnvelope[];
  return { ...app, logger, received };
}
const fetch_ = (url: string) => fetch(url);

/**
 * An upstream response whose body blows up when our response code takes it (to re-wrap it for
 * the visitor): a bug in our own response code path, past the proxy's own error handling. Only
 * the first one: the origin already had the request, so nothing is sent again (issue 21) and a
 * second call would be a defect of its own.
 */
const brokenResponseFetch = (): FetchFunction => {
  let calls = 0;
  return async (input, init) => {
    const response = await fetch(input, init);
    if (calls++ > 0) return response;
    Object.defineProperty(response, 'body', {
      get() {
        throw new Error('response body unreadable for http://app.example.com/x?token=secret-query-value');
      },
    });
    return response;
  };
};

const visitorWithSecrets = {
  headers: {
    cookie: 'rollout_id=visitor-0001; session=secret-cookie-value',
    authorization: 'Bearer secret-bearer-token',
    'user-agent': 'integration-test',
  },
};

function eventOf(envelope: ReceivedEnvelope) {
  const item = envelope.items.find((candidate) => candidate.header.type === 'event');
  return item?.payload as {
    level?: string;
    message?: string;
    tags: Record<string, string>;
    environment: string;
    release: string;
    request?: { url?: string; headers?: Record<string, string>; cookies?: unknown; query_string?: unknown };
    exception?: { values: { type: string; value: string }[] };
  };
}

describe('Sentry through toucan-js', () => {
  it('reports an exception in our code with cohort, config version, Worker version and environment, and no visitor secrets', async () => {
    const { request, kv, received } = sentryApp({}, brokenResponseFetch());
    await putConfig(kv, { ...configAt(100), version: 7 });
    const response = await request(
      '/api/invoices?token=secret-query-value#secret-fragment',
      visitorWithSecrets,
    );
    // The origin already had the request: it is never sent again (a plain 502), and the defect is reported.
    expect(response.status).toBe(502);

    const envelopes = await received();
    expect(envelopes).toHaveLength(1);
    const envelope = envelopes[0]!;
    expect(envelope.auth).toBe('publickey');
    const event = eventOf(envelope);
    expect(event.exception?.values[0]).toMatchObject({
      type: 'Error',
      value: 'response body unreadable for http://app.example.com/x?[scrubbed]',
    });
    expect(event.tags).toMatchObject({
      cohort: 'canary',
      config_version: '7',
      worker_version: 'version-abc123',
      environment: 'staging',
    });
    expect(event.environment).toBe('staging');
    expect(event.release).toBe('version-abc123');
    expect(event.request?.url).toBe('https://app.example.com/api/invoices');
    expect(event.request?.headers).toEqual({ 'user-agent': 'integration-test' });
    expect(event.request?.cookies).toBeUndefined();
    expect(event.request?.query_string).toBeUndefined();
    for (const secret of SECRETS) expect(envelope.raw).not.toContain(secret);
  });

  it('reports a canary failover as a warning, at most once a minute per isolate', async () => {
    const { request, kv, clock, received } = sentryApp();
    await putConfig(kv, configAt(100, { failover: { statuses: [503], timeoutMs: 2000 } }));
    expect((await request('/status/503', visitorWithSecrets)).headers.get('x-rollout-cohort')).toBe('stable');
    expect((await request('/status/503', visitorWithSecrets)).headers.get('x-rollout-cohort')).toBe('stable');
    clock.advance(59_000);
    await request('/status/503', visitorWithSecrets);
    expect(await received()).toHaveLength(1);

    clock.advance(1_000);
    await request('/status/503?token=secret-query-value', visitorWithSecrets);
    const envelopes = await received();
    expect(envelopes).toHaveLength(2);
    const warnings = envelopes.map(eventOf);
    expect(warnings.map((event) => [event.level, event.message, event.tags.cohort])).toEqual([
      ['warning', 'canary failover: request replayed on stable', 'canary'],
      ['warning', 'canary failover: request replayed on stable', 'canary'],
    ]);
    expect((envelopes[1]!.items[0]!.payload as { extra: Record<string, unknown> }).extra).toMatchObject({
      failoversSinceLastWarning: 2,
      path: '/status/503',
    });
    for (const envelope of envelopes)
      for (const secret of SECRETS) expect(envelope.raw).not.toContain(secret);
  });

  it('sends nothing and reports nothing when SENTRY_SAMPLE_RATE is 0', async () => {
    const { request, received } = sentryApp({ SENTRY_SAMPLE_RATE: '0' }, brokenResponseFetch());
    expect((await request('/boom')).status).toBe(502);
    expect(await received()).toEqual([]);
  });

  it('logs an invalid SENTRY_SAMPLE_RATE clearly and keeps reporting at rate 1', async () => {
    const { request, received, logger } = sentryApp({ SENTRY_SAMPLE_RATE: '1.5' }, brokenResponseFetch());
    await request('/boom');
    // Read when the control Worker sends its first report (the edge's, relayed).
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'invalid SENTRY_SAMPLE_RATE, using 1' }),
    );
    expect(await received()).toHaveLength(1);
  });

  it('is off without SENTRY_DSN, and off with a clear log line for a malformed one', () => {
    const logger = new RecordingLogger();
    const settings = (vars: Record<string, string>) => {
      const parsed = parseSettings(testVars(vars));
      if (!parsed.ok) throw new Error(parsed.issues.join('; '));
      return parsed.settings;
    };
    const request = new Request('https://app.example.com/');
    expect(errorReporterFactory(settings({}), 'v', logger)(request, () => {})).toBe(nullErrorReporter);
    expect(logger.lines).toEqual([]);
    expect(errorReporterFactory(settings({ SENTRY_DSN: 'not a dsn' }), 'v', logger)(request, () => {})).toBe(
      nullErrorReporter,
    );
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'Sentry disabled: invalid SENTRY_DSN' }),
    );
  });
});
