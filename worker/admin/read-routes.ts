import type { Handler } from 'hono';
import { AuditQuerySchema } from '../../src/admin/admin-bodies';
import openApiDocument from '../../src/admin/openapi.json';
import { describeIssues } from '../../src/config/describe-issues';
import type { AppDeps } from '../app-deps';
import type { AdminEnv } from './admin-env';
import { AdminError } from './admin-error';
import { readAdminState } from './admin-state';
import { listAuditEntries } from './audit-log';

/**
 * `GET /state`, read fresh from KV, with `ETag: "<version>"` to send back as `If-Match`.
 *
 * @example
 * admin.get('/state', auth, stateHandler(deps));
 */
export function stateHandler(deps: AppDeps): Handler<AdminEnv> {
  return async function readState(c) {
    const state = await readAdminState(deps.kv, deps.settings, deps.store);
    c.header('etag', `"${state.version}"`);
    return c.json(state);
  };
}

/**
 * `GET /audit?limit=&cursor=`: one page of the audit log, newest first.
 *
 * @example
 * admin.get('/audit', auth, auditHandler(deps));
 */
export function auditHandler(deps: AppDeps): Handler<AdminEnv> {
  return async function readAudit(c) {
    const query = AuditQuerySchema.safeParse(c.req.query());
    if (!query.success) throw new AdminError(400, 'invalid query', describeIssues(query.error));
    const { limit, cursor } = query.data;
    try {
      return c.json(await listAuditEntries(deps.kv, limit, cursor, deps.logger));
    } catch (error) {
      // KV rejects cursors it did not issue; without one, the failure is KV's own.
      if (cursor) throw new AdminError(400, 'invalid or expired cursor');
      throw error;
    }
  };
}

/**
 * `GET /openapi.json`: the document generated from the route table and zod schemas
 * (src/admin/openapi.json, kept equal to the generator's output by a test), with this
 * deployment's prefix as its server. Serialized once per isolate.
 *
 * @example
 * admin.get('/openapi.json', auth, openApiHandler('/__rollout'));
 */
export function openApiHandler(prefix: string): Handler<AdminEnv> {
  let body: string | undefined;
  return function serveOpenApi(c) {
    body ??= JSON.stringify({ ...openApiDocument, servers: [{ url: prefix }] });
    return c.body(body, 200, { 'content-type': 'application/json' });
  };
}
