import { Hono } from 'hono/tiny';
import { createAdminApp } from './admin/admin-app';
import type { AppDeps } from './app-deps';
import { splitHandler } from './split-handler';

/**
 * The Hono app: the admin API under the configured prefix, the splitter everywhere else.
 *
 * @example
 * const app = createApp(deps);
 * return app.fetch(request, env, ctx);
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const prefix = deps.settings.ADMIN_PREFIX;
  app.route(prefix, createAdminApp(deps));
  // The admin prefix is never proxied, so the origin cannot shadow (or be probed through) it.
  app.all(`${prefix}/*`, (c) => c.json({ error: 'not found' }, 404));
  app.all('*', splitHandler(deps));
  app.onError((error, c) => {
    deps.logger.error('unhandled error', { error: String(error), path: new URL(c.req.url).pathname });
    // Internals stay in the logs (and Sentry); the visitor gets a plain answer.
    return c.json({ error: 'edge-rollout could not serve this request' }, 502);
  });
  return app;
}
