import * as z from 'zod/mini';
import { describeIssues } from '../../../src/config/parse-config';
import type { Settings } from '../../../src/config/settings';
import type { Clock, ErrorContext, ErrorReporter, Logger } from '../../../src/ports';

/**
 * What edge-rollout sends to Sentry, whatever the SDK: the settings that turn it on, the scrubbing
 * that keeps visitor secrets out of every event, and the rate of failover warnings. The SDK
 * adapter (toucan-reporter.ts) applies them.
 */

/** A Sentry DSN: `https://<public key>@<host>[:port]/<project id>`. */
export const SentryDsnSchema = z
  .string()
  .check(
    z.regex(
      /^https?:\/\/[A-Za-z0-9]+@[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._-]+)*\/\d+$/,
      'SENTRY_DSN must look like https://<key>@<host>/<project id>',
    ),
  );

/** SENTRY_SAMPLE_RATE: a number from 0 to 1 (the share of events sent). */
export const SentrySampleRateSchema = z.pipe(
  z
    .string()
    .check(z.regex(/^\s*(0(\.\d+)?|1(\.0+)?|\.\d+)\s*$/, 'SENTRY_SAMPLE_RATE must be a number from 0 to 1')),
  z.transform(Number),
);

/** Sentry settings once validated; absent when Sentry is off. */
export interface SentryOptions {
  dsn: string;
  sampleRate: number;
  environment: string;
}

/**
 * Reads the Sentry settings once per isolate. No DSN turns Sentry off; an invalid DSN also
 * turns it off (with a clear log line) rather than failing requests; an invalid sample rate is
 * logged and replaced by 1, because losing every error report is worse than sending all.
 */
export function sentryOptionsFrom(settings: Settings, logger: Logger): SentryOptions | undefined {
  if (settings.SENTRY_DSN === undefined || settings.SENTRY_DSN.trim() === '') return undefined;
  const dsn = SentryDsnSchema.safeParse(settings.SENTRY_DSN.trim());
  if (!dsn.success) {
    logger.error('Sentry disabled: invalid SENTRY_DSN', { issues: describeIssues(dsn.error) });
    return undefined;
  }
  let sampleRate = 1;
  if (settings.SENTRY_SAMPLE_RATE !== undefined) {
    const rate = SentrySampleRateSchema.safeParse(settings.SENTRY_SAMPLE_RATE);
    if (rate.success) sampleRate = rate.data;
    else
      logger.error('invalid SENTRY_SAMPLE_RATE, using 1', {
        value: settings.SENTRY_SAMPLE_RATE,
        issues: describeIssues(rate.error),
      });
  }
  return { dsn: dsn.data, sampleRate, environment: settings.ENVIRONMENT };
}

/** The parts of a Sentry event that can carry visitor secrets. */
export interface ScrubbableEvent {
  request?: {
    url?: string;
    query_string?: unknown;
    cookies?: unknown;
    headers?: Record<string, string>;
    data?: unknown;
    env?: unknown;
  };
  message?: string;
  exception?: { values?: { value?: string }[] };
  user?: { ip_address?: string | null } & Record<string, unknown>;
}

/** Request headers worth seeing in an error report; everything else (auth, cookies) is dropped. */
export const REPORTED_HEADERS: readonly string[] = [
  'user-agent',
  'cf-ray',
  'content-type',
  'accept',
  'content-length',
];

const URL_QUERY = /(\bhttps?:\/\/[^\s?#"'<>]*)\?[^\s#"'<>]*/g;

/**
 * Removes what must never leave the Worker in an error report: cookies, every header not in
 * {@link REPORTED_HEADERS} (so `authorization` and `cookie` go), query strings (of the request
 * and of any URL inside a message), request bodies and the visitor's IP.
 *
 * @example
 * new Toucan({ ..., beforeSend: (event) => scrubEvent(event) });
 */
export function scrubEvent<E extends ScrubbableEvent>(event: E): E {
  const request = event.request;
  if (request) {
    delete request.cookies;
    delete request.query_string;
    delete request.data;
    delete request.env;
    if (request.url) request.url = request.url.replace(/[?#].*$/s, '');
    if (request.headers)
      request.headers = Object.fromEntries(
        Object.entries(request.headers).filter(([name]) => REPORTED_HEADERS.includes(name.toLowerCase())),
      );
  }
  if (event.message) event.message = withoutQueries(event.message);
  for (const exception of event.exception?.values ?? [])
    if (exception.value) exception.value = withoutQueries(exception.value);
  if (event.user) delete event.user.ip_address;
  return event;
}

function withoutQueries(text: string): string {
  return text.replace(URL_QUERY, '$1?[scrubbed]');
}

/**
 * Reports canary failovers to Sentry as warnings, at most one per `intervalMs` per isolate: a
 * failing canary fails on every request, and one warning a minute says so without flooding
 * the project (the metrics carry the exact count).
 *
 * @example
 * const warnFailover = failoverWarning(deps.clock); // once, in the handler factory
 * if (outcome.failover) warnFailover(reporter, { tags: { upstream_status: '503' } });
 */
export function failoverWarning(clock: Clock, intervalMs = 60_000) {
  let lastSent = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return function warnFailover(reporter: ErrorReporter, context: ErrorContext): void {
    const now = clock.now();
    if (now - lastSent < intervalMs) {
      suppressed++;
      return;
    }
    lastSent = now;
    reporter.captureMessage('canary failover: request replayed on stable', 'warning', {
      ...context,
      extra: { ...context.extra, failoversSinceLastWarning: suppressed },
    });
    suppressed = 0;
  };
}
