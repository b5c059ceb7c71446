import type { ErrorContext, Logger } from '../../src/ports';
import { REPORTED_HEADERS } from '../shared/sentry/sentry-policy';
import {
  EDGE_VERSION_HEADER,
  HOST_KIND_HEADER,
  PLANE_REPORT_PATH,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  type ErrorReportMessage,
} from '../shared/plane-protocol';
import type { ErrorReporterFor } from '../shared/sentry/error-reporter';
import type { ControlPlaneBinding } from './control-forward';

/** The longest stack a report carries (the runtime's own traces are far shorter). */
const MAX_STACK = 8_192;

/**
 * The edge's error reporter: each report goes to the control Worker over the service binding
 * (`POST /.rollout-plane/report`, protocol 4), which sends it to Sentry. The edge carries no
 * Sentry SDK (about a third of its bundle), and reporting stays off the visitor's path: the post
 * runs in `waitUntil`, and a report that cannot be delivered (the control Worker down, or one
 * version back) is logged here instead. Nothing leaves the edge that Sentry must not see: the
 * URL loses its query and fragment, and only the reported headers are kept. A reporter never
 * throws.
 *
 * @example
 * const errorReporterFor = errorRelay({ binding: env.CONTROL_PLANE, workerVersion, logger });
 * errorReporterFor(request, waitUntil).captureException(error, { tags: { cohort: 'canary' } });
 */
export function errorRelay({
  binding,
  workerVersion,
  logger,
}: {
  binding: ControlPlaneBinding | undefined;
  workerVersion: string;
  logger: Logger;
}): ErrorReporterFor {
  async function deliver(report: ErrorReportMessage): Promise<void> {
    let status = 0;
    try {
      if (binding) {
        const response = await binding.fetch(
          new Request(`https://edge-rollout-control.internal${PLANE_REPORT_PATH}`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
              [HOST_KIND_HEADER]: 'plane',
              [EDGE_VERSION_HEADER]: workerVersion,
            },
            body: JSON.stringify(report),
          }),
        );
        status = response.status;
        await response.body?.cancel();
      }
    } catch {
      status = 0;
    }
    if (status !== 202)
      logger.error('error report not delivered to the control plane', {
        status,
        name: report.name,
        message: report.message.slice(0, 500),
        tags: report.tags,
      });
  }

  return function errorReporterFor(request, waitUntil) {
    const send = (report: Omit<ErrorReportMessage, 'workerVersion' | 'request'>) => {
      try {
        waitUntil(deliver({ ...report, workerVersion, request: describeRequest(request) }));
      } catch {
        // Reporting is best effort: it must never turn into the visitor's problem.
      }
    };
    const context = (value?: ErrorContext) => ({ tags: value?.tags ?? {}, extra: value?.extra ?? {} });
    return {
      captureException(error, value) {
        const known = error instanceof Error ? error : new Error(String(error));
        send({
          kind: 'exception',
          name: known.name || 'Error',
          message: known.message,
          stack: known.stack?.slice(0, MAX_STACK),
          level: 'error',
          ...context(value),
        });
      },
      captureMessage(message, level, value) {
        send({ kind: 'message', name: level, message, level, ...context(value) });
      },
    };
  };
}

/** The request as a report may carry it: no query, no fragment, only the reported headers. */
function describeRequest(request: Request): ErrorReportMessage['request'] {
  const headers: Record<string, string> = {};
  for (const name of REPORTED_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = value.slice(0, 512);
  }
  return { method: request.method, url: request.url.replace(/[?#].*$/s, ''), headers };
}
