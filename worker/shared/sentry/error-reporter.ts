import type { Settings } from '../../../src/config/settings';
import { nullErrorReporter, type ErrorReporter, type Logger } from '../../../src/ports';
import { sentryOptionsFrom } from './sentry-policy';
import { toucanReporterFactory } from './toucan-reporter';

/** Creates the error reporter for one request. */
export type ErrorReporterFor = (
  request: Request,
  waitUntil: (promise: Promise<unknown>) => void,
) => ErrorReporter;

/**
 * Each Worker's `errorReporterFor` (and a cron run's): Sentry when SENTRY_DSN is set and valid,
 * otherwise a reporter that drops everything. Settings are read once, here, not per request.
 * This file is the one place that knows Sentry's SDK is behind it.
 */
export function errorReporterFactory(
  settings: Settings,
  workerVersion: string,
  logger: Logger,
): ErrorReporterFor {
  const sentry = sentryOptionsFrom(settings, logger);
  return sentry ? toucanReporterFactory({ ...sentry, workerVersion }) : () => nullErrorReporter;
}

/**
 * `errorReporterFactory` per Worker version, kept for the few versions seen at once (a rollout of
 * the edge runs two): the control Worker reports the edge's relayed errors under the edge's
 * version, not its own.
 *
 * @example
 * const reporterFor = errorReportersByVersion(settings, logger);
 * reporterFor('edge-version-id')(request, waitUntil).captureException(error);
 */
export function errorReportersByVersion(
  settings: Settings,
  logger: Logger,
): (workerVersion: string) => ErrorReporterFor {
  const byVersion = new Map<string, ErrorReporterFor>();
  return (workerVersion) => {
    let reporterFor = byVersion.get(workerVersion);
    if (!reporterFor) {
      if (byVersion.size >= 8) byVersion.clear();
      reporterFor = errorReporterFactory(settings, workerVersion, logger);
      byVersion.set(workerVersion, reporterFor);
    }
    return reporterFor;
  };
}
