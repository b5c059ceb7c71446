import type { Settings } from '../../src/env/settings-schema';
import { nullErrorReporter, type ErrorReporter } from '../../src/ports/error-reporter';
import type { Logger } from '../../src/ports/logger';
import { sentryOptionsFrom } from './sentry-options';
import { toucanReporterFactory } from './toucan-reporter';

/** Creates the error reporter for one request. */
export type ErrorReporterFor = (
  request: Request,
  waitUntil: (promise: Promise<unknown>) => void,
) => ErrorReporter;

/**
 * The `errorReporterFor` of AppDeps: Sentry when SENTRY_DSN is set and valid, otherwise a
 * reporter that drops everything. Settings are read once, here, not per request.
 *
 * @example
 * errorReporterFor: errorReporterFactory(settings, workerVersion, logger),
 */
export function errorReporterFactory(
  settings: Settings,
  workerVersion: string,
  logger: Logger,
): ErrorReporterFor {
  const sentry = sentryOptionsFrom(settings, logger);
  return sentry ? toucanReporterFactory({ ...sentry, workerVersion }) : () => nullErrorReporter;
}
