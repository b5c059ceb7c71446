import type { Clock } from '../../src/ports/clock';
import type { ErrorContext, ErrorReporter } from '../../src/ports/error-reporter';

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
