import { createEdgeApp, misconfiguredResponse, type EdgeApp } from './edge-app';
import type { HeadRefresher } from '../../src/propagation/head-refresher';
import { appPerEnv, type Built } from '../shared/app-per-env';
import { buildRuntime } from './runtime';

const appFor = appPerEnv((env: EdgeEnv): Built<{ app: EdgeApp; headRefresh: HeadRefresher }> => {
  const runtime = buildRuntime(env);
  return runtime.ok
    ? { app: createEdgeApp(runtime.deps), headRefresh: runtime.headRefresh }
    : { issues: runtime.issues };
}, 'edge-rollout edge misconfigured');

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
