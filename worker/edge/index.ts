import { createEdgeApp, misconfiguredResponse, type EdgeApp } from './edge-app';
import { buildRuntime } from './runtime';

// One app per env object: the env is stable for an isolate's life, so the config cache and
// parsed settings are built once, not per request.
const apps = new WeakMap<EdgeEnv, { app: EdgeApp } | { issues: string[] }>();

function appFor(env: EdgeEnv): { app: EdgeApp } | { issues: string[] } {
  let entry = apps.get(env);
  if (!entry) {
    const runtime = buildRuntime(env);
    entry = runtime.ok ? { app: createEdgeApp(runtime.deps) } : { issues: runtime.issues };
    if (!runtime.ok)
      console.error(
        JSON.stringify({
          level: 'error',
          message: 'edge-rollout edge misconfigured',
          issues: runtime.issues,
        }),
      );
    apps.set(env, entry);
  }
  return entry;
}

/** The edge Worker: the visitor path, OFREP and QA overrides. No Durable Object, no cron. */
export default {
  fetch(request, env, ctx) {
    const entry = appFor(env);
    return 'app' in entry ? entry.app.fetch(request, env, ctx) : misconfiguredResponse();
  },
} satisfies ExportedHandler<EdgeEnv>;
