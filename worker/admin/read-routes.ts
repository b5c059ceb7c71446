import type { Handler } from 'hono';
import type * as z from 'zod/mini';
import { AuditQuerySchema, type StateBodySchema } from '../../src/admin/admin-schemas';
import { killState } from '../../src/admin/kill-switch-text';
import openApiDocument from '../../src/admin/openapi.json';
import { KILL_SWITCH_KEY, CONFIG_KEY } from '../../src/config/config-schema';
import { describeIssues, parseJsonText } from '../../src/config/parse-config';
import type { Settings } from '../../src/config/settings';
import { GuardVerdictRecordSchema, type GuardVerdictRecord } from '../../src/guard/analyze-canary';
import { GUARD_VERDICT_KEY } from '../../src/guard/guard-ports';
import type { ConfigStore } from '../../src/ports';
import type { AppDeps } from '../app';
import { AdminError, type AdminEnv } from './admin-http';
import { listAuditEntries } from './audit-log';
import { storedConfig } from './stored-config';

/**
 * `GET /state`, read fresh from KV, with `ETag: "<version>"` to send back as `If-Match`.
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
 */
export function openApiHandler(prefix: string): Handler<AdminEnv> {
  let body: string | undefined;
  return function serveOpenApi(c) {
    body ??= JSON.stringify({ ...openApiDocument, servers: [{ url: prefix }] });
    return c.body(body, 200, { 'content-type': 'application/json' });
  };
}

/** The body of `GET /state`. */
export type AdminState = z.infer<typeof StateBodySchema>;

/**
 * Reads the state fresh from KV in one bulk read (config, kill switch, guard verdict), never
 * from the isolate cache, so ops see what is stored. When the stored config is invalid, the
 * config shown is the one requests are being served with, plus the issues.
 */
export async function readAdminState(
  kv: KVNamespace,
  settings: Settings,
  store: ConfigStore,
): Promise<AdminState> {
  const values = await kv.get([CONFIG_KEY, KILL_SWITCH_KEY, GUARD_VERDICT_KEY], 'text');
  const stored = storedConfig(values.get(CONFIG_KEY) ?? null, settings);
  let config = stored.config;
  let source: AdminState['source'] = stored.status === 'stored' ? 'kv' : 'safe-default';
  if (stored.status === 'invalid') {
    const snapshot = await store.read();
    config = snapshot.config;
    source = snapshot.source === 'safe-default' ? 'safe-default' : 'last-known-good';
  }
  return {
    // The stored version, which If-Match compares against (also when the stored value is invalid).
    version: stored.config.version,
    state: config.rollout.state,
    percent: config.rollout.percent,
    config,
    kill: killState(values.get(KILL_SWITCH_KEY) ?? null),
    source,
    guard: parseVerdict(values.get(GUARD_VERDICT_KEY) ?? null),
    ...(stored.status === 'invalid' ? { issues: stored.issues } : {}),
  };
}

// A verdict that is not the guard's shape (hand-edited, or from another version) shows as none.
function parseVerdict(text: string | null): GuardVerdictRecord | null {
  if (text === null) return null;
  const result = parseJsonText(text, GuardVerdictRecordSchema);
  return result.ok ? result.value : null;
}
