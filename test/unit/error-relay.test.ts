import { describe, expect, it } from 'vitest';
import { errorRelay } from '../../worker/edge/error-relay';
import {
  HOST_KIND_HEADER,
  PLANE_REPORT_PATH,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  type ErrorReportMessage,
} from '../../worker/shared/plane-protocol';

/** A binding that keeps what it was sent and answers with `status`. */
function recordingBinding(status: number) {
  const sent: Request[] = [];
  return {
    sent,
    binding: {
      fetch: async (request: Request) => {
        sent.push(request);
        return new Response(null, { status });
      },
    },
  };
}

function recordingLogger() {
  const lines: { message: string; fields?: Record<string, unknown> }[] = [];
  const log = (message: string, fields?: Record<string, unknown>) => lines.push({ message, fields });
  return { lines, logger: { info: log, warn: log, error: log } };
}

/** Runs one capture and waits for what it handed to waitUntil. */
async function capture(
  run: (reporter: ReturnType<ReturnType<typeof errorRelay>>) => void,
  relay: ReturnType<typeof errorRelay>,
) {
  const pending: Promise<unknown>[] = [];
  const request = new Request('https://app.example.com/invoices?token=secret#frag', {
    headers: { cookie: 'session=secret', authorization: 'Bearer secret', 'user-agent': 'ua-1' },
  });
  run(relay(request, (promise) => pending.push(promise)));
  await Promise.all(pending);
}

describe('the edge relays its error reports to the control Worker (protocol 4)', () => {
  it('posts one report per capture as the edge, with no query, cookie or credential in it', async () => {
    const { sent, binding } = recordingBinding(202);
    const { lines, logger } = recordingLogger();
    const relay = errorRelay({ binding, workerVersion: 'edge-v7', logger });
    await capture((reporter) => {
      const error = new TypeError('boom');
      reporter.captureException(error, { tags: { cohort: 'canary' }, extra: { step: 2 } });
    }, relay);
    expect(sent).toHaveLength(1);
    const request = sent[0]!;
    expect(new URL(request.url).pathname).toBe(PLANE_REPORT_PATH);
    expect(request.headers.get(PROTOCOL_HEADER)).toBe(String(PROTOCOL_VERSION));
    expect(request.headers.get(HOST_KIND_HEADER)).toBe('plane');
    const text = await request.text();
    for (const secret of ['secret', 'frag']) expect(text).not.toContain(secret);
    const report = JSON.parse(text) as ErrorReportMessage;
    expect(report).toMatchObject({
      kind: 'exception',
      name: 'TypeError',
      message: 'boom',
      level: 'error',
      tags: { cohort: 'canary' },
      extra: { step: 2 },
      workerVersion: 'edge-v7',
      request: { method: 'GET', url: 'https://app.example.com/invoices', headers: { 'user-agent': 'ua-1' } },
    });
    expect(report.stack).toContain('TypeError: boom');
    expect(lines).toEqual([]);
  });

  it('logs a report the control Worker did not take (one version back answers 404, or it is down)', async () => {
    for (const status of [404, 503]) {
      const { binding } = recordingBinding(status);
      const { lines, logger } = recordingLogger();
      await capture(
        (reporter) => reporter.captureMessage('canary failover', 'warning', { tags: { cohort: 'canary' } }),
        errorRelay({ binding, workerVersion: 'edge-v7', logger }),
      );
      expect(lines).toEqual([
        {
          message: 'error report not delivered to the control plane',
          fields: { status, name: 'warning', message: 'canary failover', tags: { cohort: 'canary' } },
        },
      ]);
    }
    const { lines, logger } = recordingLogger();
    const down = { fetch: async () => Promise.reject(new Error('connection refused')) };
    await capture(
      (reporter) => reporter.captureException('not an Error'),
      errorRelay({ binding: down, workerVersion: 'v', logger }),
    );
    expect(lines[0]).toMatchObject({ fields: { status: 0, name: 'Error', message: 'not an Error' } });
  });
});
