import * as z from 'zod/mini';
import { parseJsonText } from '../../src/config/parse-config';
import { readLimitedText } from '../../src/encoding';
import type { Logger } from '../../src/ports';
import {
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  type ErrorReportMessage,
  type ForwardedFrom,
} from '../shared/plane-protocol';
import type { ErrorReporterFor } from '../shared/sentry/error-reporter';

/** A report of the edge as this Worker accepts it: bounded everywhere. */
const ErrorReportSchema = z.strictObject({
  kind: z.enum(['exception', 'message']),
  name: z.string().check(z.maxLength(128)),
  message: z.string().check(z.maxLength(4_096)),
  stack: z.optional(z.string().check(z.maxLength(8_192))),
  level: z.enum(['info', 'warning', 'error']),
  tags: z.record(z.string().check(z.maxLength(64)), z.string().check(z.maxLength(256))),
  extra: z.record(z.string().check(z.maxLength(64)), z.unknown()),
  workerVersion: z.string().check(z.maxLength(64)),
  request: z.strictObject({
    method: z.string().check(z.maxLength(16)),
    url: z.string().check(z.maxLength(2_048)),
    headers: z.record(z.string().check(z.maxLength(64)), z.string().check(z.maxLength(512))),
  }),
});

/** Bodies above this are refused before parsing: a report is a few KiB. */
const MAX_REPORT_BYTES = 32 * 1024;

/**
 * Protocol 4: `POST /.rollout-plane/report`, the edge's error reports, sent on to Sentry through
 * this Worker's reporter (toucan-js, scrubbed by the same policy) under the edge's version as the
 * release and `plane: edge` as a tag. Only the edge's own requests (host kind `plane`) get here;
 * anything else gets the 404 of an unknown path. Answers 202 once the report is handed over.
 *
 * @example
 * const reportRoute = errorReportRoute((version) => errorReporterFactory(settings, version, logger), logger);
 */
export function errorReportRoute(
  reporterFor: (workerVersion: string) => ErrorReporterFor,
  logger: Logger,
): (
  request: Request,
  from: ForwardedFrom,
  waitUntil: (promise: Promise<unknown>) => void,
) => Promise<Response> {
  const headers = { 'cache-control': 'no-store', [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) };
  return async function relayedReport(request, from, waitUntil) {
    if (from.host !== 'plane') return Response.json({ error: 'not found' }, { status: 404, headers });
    if (request.method !== 'POST')
      return Response.json({ error: 'use POST' }, { status: 405, headers: { ...headers, allow: 'POST' } });
    const body = await readLimitedText(request, MAX_REPORT_BYTES);
    if (!body.ok) return Response.json({ error: 'report too large or not UTF-8' }, { status: 400, headers });
    const parsed = parseJsonText(body.text, ErrorReportSchema, 'report');
    if (!parsed.ok) {
      logger.warn('edge error report refused', { issues: parsed.issues.slice(0, 5) });
      return Response.json({ error: 'invalid report', issues: parsed.issues }, { status: 400, headers });
    }
    const report: ErrorReportMessage = parsed.value;
    let original: Request;
    try {
      original = new Request(report.request.url, {
        method: report.request.method,
        headers: report.request.headers,
      });
    } catch {
      // A URL or method the runtime refuses: the report still goes, without its request.
      original = new Request('https://edge.invalid/');
    }
    const reporter = reporterFor(report.workerVersion)(original, waitUntil);
    const context = { tags: { ...report.tags, plane: 'edge' }, extra: report.extra };
    if (report.kind === 'exception') {
      const error = new Error(report.message);
      error.name = report.name;
      if (report.stack !== undefined) error.stack = report.stack;
      reporter.captureException(error, context);
    } else reporter.captureMessage(report.message, report.level, context);
    return new Response(null, { status: 202, headers });
  };
}
