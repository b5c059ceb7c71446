import { createEdgeApp, misconfiguredResponse, type EdgeApp } from './edge-app';
import type { HeadRefresher } from '../../src/propagation/head-refresher';
import { buildRuntime } from './runtime';

// One app per env object: the env is stable for an isolate's life, so the config cache and
// parsed settings are built once, not per request.
type Entry = { app: EdgeApp; headRefresh: HeadRefresher } | { issues: string[] };
const apps = new WeakMap<EdgeEnv, Entry>();

function appFor(env: EdgeEnv): Entry {
  let entry = apps.get(env);
  if (!entry) {
    const runtime = buildRuntime(env);
    entry = runtime.ok
      ? { app: createEdgeApp(runtime.deps), headRefresh: runtime.headRefresh }
      : { issues: runtime.issues };
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
    if (!('app' in entry)) return misconfiguredResponse();
    // The head refresh runs after the response, kept alive by this request.
    entry.headRefresh.keepAlive = (promise) => ctx.waitUntil(promise);
    return entry.app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<EdgeEnv>;
