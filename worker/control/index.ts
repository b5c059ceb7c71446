import { createControlApp, type ControlApp } from './control-app';
import { appPerEnv, type Built } from '../shared/app-per-env';
import { errorReportersByVersion } from '../shared/sentry/error-reporter';
import { buildControlRuntime } from './runtime';
import { scheduled } from './scheduled';

const appFor = appPerEnv((env: ControlEnv): Built<{ app: ControlApp }> => {
  const runtime = buildControlRuntime(env);
  if (!runtime.ok) return { issues: runtime.issues };
  return {
    app: createControlApp({
      ...runtime.deps,
      runGuardNow: (runEnv, ctx) =>
        scheduled(
          { cron: 'api', scheduledTime: runtime.deps.clock.now(), noRetry() {} },
          runEnv as ControlEnv,
          ctx ?? ({ waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext),
        ),
      cockpitOrigin: (env as { COCKPIT_ORIGIN?: string }).COCKPIT_ORIGIN,
      relayedReporterFor: errorReportersByVersion(runtime.deps.settings, runtime.deps.logger),
    }),
  };
}, 'edge-rollout control misconfigured');

// The single writer's class must be exported by the Worker's main module.
export { RolloutControl } from './single-writer/rollout-control';

/** The control Worker: admin API, cockpit, the single writer, the Cron guard and probes. */
export default {
  fetch(request, env, ctx) {
    const entry = appFor(env);
    if ('app' in entry) return entry.app.fetch(request, env, ctx);
    // Ops-facing, but reachable on the app's host: the issues go to the logs, not the answer.
    return Response.json(
      { error: 'the control plane is misconfigured; see its logs (wrangler tail)' },
      { status: 503, headers: { 'retry-after': '30', 'cache-control': 'no-store' } },
    );
  },
  // The guard: automated canary analysis every minute (docs/GUARD.md).
  scheduled,
} satisfies ExportedHandler<ControlEnv>;
