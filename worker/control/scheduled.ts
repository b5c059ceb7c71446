import { parseSettings } from '../../src/config/settings';
import type { SqlFetch } from '../../src/guard/analytics-sql';
import { parseGuardSettings } from '../../src/guard/guard-settings';
import { runGuard } from '../../src/guard/run-guard';
import { consoleLogger, safeLogger, type Clock, type ErrorReporter, type Logger } from '../../src/ports';
import { buildGuardDeps } from './guard-deps';
import { probeOrigins } from './origin-probes';
import { errorReporterFactory } from '../shared/sentry/error-reporter';

/** What tests (and only tests) swap out; everything else is wired as in production. */
export interface ScheduledOverrides {
  logger?: Logger;
  reporter?: ErrorReporter;
  clock?: Clock;
  fetch?: SqlFetch;
}

/** The Worker's `scheduled` handler. */
export type ScheduledHandler = (
  controller: ScheduledController,
  env: ControlEnv,
  ctx: ExecutionContext,
) => Promise<void>;

/**
 * Builds the Cron Trigger handler: one guard run per invocation. A disabled guard (no SQL API
 * credentials) is logged once per isolate, not every minute. The run's clock is the trigger's
 * `scheduledTime`, so bake times are measured against the schedule (and tests can set it).
 * Nothing escapes: an unexpected error is logged and reported, never thrown at the runtime.
 *
 * @example
 * export default { fetch, scheduled: createScheduledHandler() } satisfies ExportedHandler<ControlEnv>;
 */
export function createScheduledHandler(overrides: ScheduledOverrides = {}): ScheduledHandler {
  const logger = overrides.logger ?? safeLogger(consoleLogger);
  let announced: string | undefined;
  // When this isolate's runs began to find the control plane unreachable (undefined: they don't).
  let controlDownSince: string | undefined;
  const once = (message: string, reason: string): void => {
    if (announced === reason) return;
    announced = reason;
    logger.warn(message, { reason });
  };

  return async function scheduled(controller, env, ctx) {
    const guard = parseGuardSettings(env as unknown as Record<string, unknown>);
    if (!guard.enabled) return once('guard disabled', guard.reason);
    const parsed = parseSettings(env as unknown as Record<string, unknown>);
    if (!parsed.ok) return once('guard idle: the Worker vars are invalid', parsed.issues.join('; '));
    announced = undefined;

    const reporter =
      overrides.reporter ??
      errorReporterFactory(
        parsed.settings,
        env.CF_VERSION_METADATA?.id ?? 'dev',
        logger,
      )(
        // Sentry's context is request-shaped; a cron run is described by its trigger.
        new Request(`https://scheduled.invalid/?cron=${encodeURIComponent(controller.cron)}`),
        (promise) => ctx.waitUntil(promise),
      );
    const clock = overrides.clock ?? { now: () => controller.scheduledTime };
    const fetchFn: SqlFetch = overrides.fetch ?? ((input, init) => fetch(input, init));
    try {
      const deps = buildGuardDeps(env, parsed.settings, guard.settings, {
        clock,
        logger,
        reporter,
        fetch: fetchFn,
      });
      await probeOrigins(deps, env, parsed.settings, { waitUntil: (promise) => ctx.waitUntil(promise) });
      const result = await runGuard(deps);
      if (!result.ran && result.controlUnreachable) {
        // One error and one report per outage: the single writer is down, so the guard neither
        // judges a possibly stale replica nor attempts an abort it could not write.
        if (controlDownSince === undefined) {
          controlDownSince = new Date(clock.now()).toISOString();
          logger.error('guard skipped: the control plane is unreachable', { why: result.why });
          reporter.captureMessage(
            'edge-rollout guard cannot reach the control plane: no verdict, no action until it answers',
            'error',
            { tags: { component: 'guard' }, extra: { why: result.why } },
          );
        } else {
          logger.warn('guard still skipped: the control plane is unreachable', { since: controlDownSince });
        }
        return;
      }
      if (controlDownSince !== undefined) {
        logger.info('guard reaches the control plane again', { since: controlDownSince });
        controlDownSince = undefined;
      }
      if (!result.ran) logger.info('guard skipped', { why: result.why });
    } catch (error) {
      logger.error('guard run failed', { error: String((error as Error)?.stack ?? error) });
      reporter.captureException(error, { tags: { component: 'guard' } });
    }
  };
}

/** The production handler. */
export const scheduled: ScheduledHandler = createScheduledHandler();
