import { Hono } from 'hono/tiny';
import {
  ConfigBodySchema,
  FlagBodySchema,
  PercentBodySchema,
  ReasonBodySchema,
} from '../../../src/admin/admin-schemas';
import { TRANSITIONS } from '../../../src/admin/lifecycle';
import { FlagNameSchema } from '../../../src/config/config-schema';
import { describeIssues } from '../../../src/config/parse-config';
import type { ControlDeps } from '../control-deps';
import { eventsRoute } from '../events-route';
import { adminAuth, type RequirePermission } from './admin-auth';
import { AdminError, adminErrorHandler, type AdminEnv } from './admin-http';
import { openOverrideHandler, overrideLinkHandler } from './override-links';
import { auditHandler, stateHandler } from './read-routes';
import { openApiHandler, sessionHandler } from './cockpit';
import { previewHandler } from './preview-route';
import { seriesHandler } from './series-route';
import { bypassHandler, commandHandler, killHandler, unbypassHandler, unkillHandler } from './write-routes';

/**
 * The admin API as a Hono sub-app, mounted under ADMIN_PREFIX. Every route except `/health` and
 * `/override` needs credentials, and the permission its `auth(…)` names (the role table is
 * src/admin/tokens.ts): `read` for what the cockpit and `rollout status` show, `operate` for
 * what moves visitors, `configure` for the whole config, `events` for the app's relay. The
 * routes are exactly those of src/admin/admin-routes.ts.
 *
 * `auth` is the control Worker's one guard per isolate (its failure throttle is shared with
 * `POST /guard/run`); a test may leave it out.
 */
export function createAdminApp(
  deps: ControlDeps,
  auth: RequirePermission = adminAuth({ settings: deps.settings, clock: deps.clock, logger: deps.logger }),
): Hono<AdminEnv> {
  const admin = new Hono<AdminEnv>();
  admin.onError(adminErrorHandler(deps.logger));
  // Admin answers are per-caller and change with every write: no cache may keep them.
  admin.use('*', async function noStore(c, next) {
    await next();
    c.header('cache-control', 'no-store');
  });

  admin.get('/health', (c) => c.json({ ok: true }));
  admin.get('/state', auth('read'), stateHandler(deps));
  admin.put(
    '/percent',
    auth('operate'),
    commandHandler(deps, PercentBodySchema, true, (body) => ({ type: 'set-percent', percent: body.percent })),
  );
  admin.put(
    '/config',
    auth('configure'),
    commandHandler(deps, ConfigBodySchema, true, (body) => ({ type: 'replace-config', config: body })),
  );
  admin.put(
    '/flags/:name',
    auth('operate'),
    commandHandler(deps, FlagBodySchema, true, (body, c) => {
      const name = FlagNameSchema.safeParse(c.req.param('name'));
      if (!name.success) throw new AdminError(400, 'invalid flag name', describeIssues(name.error));
      const { reason: _reason, create, ...change } = body;
      return { type: 'set-flag', name: name.data, ...change, ...(create ? { create: true } : {}) };
    }),
  );
  for (const type of TRANSITIONS)
    admin.post(
      `/${type}`,
      auth('operate'),
      commandHandler(deps, ReasonBodySchema, false, (body) =>
        type === 'abort' && body.reason ? { type, reason: body.reason } : { type },
      ),
    );
  admin.put('/kill', auth('operate'), killHandler(deps));
  admin.delete('/kill', auth('operate'), unkillHandler(deps));
  admin.put('/bypass', auth('operate'), bypassHandler(deps));
  admin.delete('/bypass', auth('operate'), unbypassHandler(deps));
  admin.get('/audit', auth('read'), auditHandler(deps));
  admin.post('/override-link', auth('operate'), overrideLinkHandler(deps));
  admin.get('/override', openOverrideHandler(deps));
  admin.get('/openapi.json', auth('read'), openApiHandler(deps.settings.ADMIN_PREFIX));
  admin.post('/preview', auth('operate'), previewHandler(deps));
  admin.get('/session', auth('read'), sessionHandler(deps));
  admin.get('/series', auth('read'), seriesHandler(deps));
  // Outcome events from the app's webhooks (mail provider, uploads): the events token's one route.
  admin.use('/events', auth('events'));
  admin.route('/', eventsRoute(deps));
  return admin;
}
