import { createApp, misconfiguredResponse, type RolloutApp } from './app';
import type { Env } from './env';
import { buildRuntime } from './runtime';
import { scheduled } from './scheduled';

// One app per env object: the env is stable for an isolate's life, so the config cache and
// parsed settings are built once, not per request.
const apps = new WeakMap<Env, { app: RolloutApp } | { issues: string[] }>();

function appFor(env: Env): { app: RolloutApp } | { issues: string[] } {
  let entry = apps.get(env);
  if (!entry) {
    const runtime = buildRuntime(env);
    entry = runtime.ok ? { app: createApp(runtime.deps) } : { issues: runtime.issues };
    if (!runtime.ok)
      console.error(
        JSON.stringify({ level: 'error', message: 'edge-rollout misconfigured', issues: runtime.issues }),
      );
    apps.set(env, entry);
  }
  return entry;
}

// The control plane's Durable Object class must be exported by the Worker's main module.
export { RolloutControl } from './control/rollout-control';

export default {
  fetch(request, env, ctx) {
    const entry = appFor(env);
    return 'app' in entry ? entry.app.fetch(request, env, ctx) : misconfiguredResponse(entry.issues);
  },
  // The guard: automated canary analysis every minute (docs/GUARD.md).
  scheduled,
} satisfies ExportedHandler<Env>;
