import { Toucan } from 'toucan-js';
import type { ErrorContext, ErrorReporter } from '../../../src/ports';
import { REPORTED_HEADERS, scrubEvent, type SentryOptions } from './sentry-policy';

/** Everything a reporter needs besides the request. */
export interface ToucanReporterOptions extends SentryOptions {
  /** The deployed Worker version id (CF_VERSION_METADATA), also sent as the release. */
  workerVersion: string;
}

/**
 * Creates per-request Sentry reporters backed by toucan-js. This is the only module that
 * imports toucan-js: moving to `@sentry/cloudflare` replaces this file and nothing else.
 * The Toucan client is built on the first capture, so a request that reports nothing costs
 * nothing; its sends are kept alive with `waitUntil`. A reporter never throws.
 */
export function toucanReporterFactory(options: ToucanReporterOptions) {
  const baseTags = { environment: options.environment, worker_version: options.workerVersion };
  return function errorReporterFor(
    request: Request,
    waitUntil: (promise: Promise<unknown>) => void,
  ): ErrorReporter {
    let toucan: Toucan | undefined;
    const client = (): Toucan => {
      if (!toucan) {
        toucan = new Toucan({
          dsn: options.dsn,
          sampleRate: options.sampleRate,
          environment: options.environment,
          release: options.workerVersion,
          request,
          context: { waitUntil, request },
          requestDataOptions: { allowedHeaders: [...REPORTED_HEADERS] },
          sendDefaultPii: false,
          beforeSend: (event) => scrubEvent(event),
        });
        toucan.setTags(baseTags);
      }
      return toucan;
    };
    const captureContext = (context?: ErrorContext) => ({
      tags: context?.tags ?? {},
      extra: context?.extra ?? {},
    });
    return {
      captureException(error, context) {
        try {
          client().captureException(error, { captureContext: captureContext(context) });
        } catch {
          // Reporting is best effort: it must never turn into the visitor's problem.
        }
      },
      captureMessage(message, level, context) {
        try {
          client().captureMessage(message, level, { captureContext: captureContext(context) });
        } catch {
          // As above.
        }
      },
    };
  };
}
