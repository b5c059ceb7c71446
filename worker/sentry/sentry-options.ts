import * as z from 'zod/mini';
import { describeIssues } from '../../src/config/describe-issues';
import type { Settings } from '../../src/env/settings-schema';
import type { Logger } from '../../src/ports/logger';

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
 *
 * @example
 * const sentry = sentryOptionsFrom(settings, logger); // undefined when SENTRY_DSN is unset
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
