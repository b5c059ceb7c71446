import type { Handler } from 'hono';
import type * as z from 'zod/mini';
import { AuditQuerySchema, type StateBodySchema } from '../../../src/admin/admin-schemas';
import { killState } from '../../../src/admin/kill-switch-text';
import {
  API_KILL_SWITCH_KEY,
  BYPASS_KEY,
  CONFIG_KEY,
  KILL_SWITCH_KEY,
  parseConfig,
  parseKillSwitch,
} from '../../../src/config/config-schema';
import { describeIssues } from '../../../src/config/parse-config';
import type { ControlDeps } from '../control-deps';
import { AdminError, type AdminEnv } from './admin-http';

/** The body of `GET /state`. */
export type AdminState = z.infer<typeof StateBodySchema>;

/**
 * `GET /state`: the control plane's committed version (also the `ETag` to send back as
 * `If-Match`), config, kill switches and guard verdict, next to what the KV replica holds now
 * (the version the splitter reads, and whether it lags). Never from the isolate cache.
 */
export function stateHandler(deps: ControlDeps): Handler<AdminEnv> {
  return async function readState(c) {
    const state = await readAdminState(deps);
    c.header('etag', `"${state.version}"`);
    return c.json(state);
  };
}

/**
 * `GET /audit?limit=&cursor=`: one page of the audit log, newest first.
 */
export function auditHandler(deps: ControlDeps): Handler<AdminEnv> {
  return async function readAudit(c) {
    const query = AuditQuerySchema.safeParse(c.req.query());
    if (!query.success) throw new AdminError(400, 'invalid query', describeIssues(query.error));
    const page = await deps.control.audit(query.data.limit, query.data.cursor);
    if ('ok' in page) throw new AdminError(page.status, page.error, page.issues, page.retryAfterSeconds);
    return c.json(page);
  };
}

/**
 * Reads the state from the control plane and, in one bulk KV read, what the replica holds
 * (`config`) and the hand-set kill switch. A KV outage shows as an unknown replica, never as a
 * failed state: ops need the truth most when KV is down.
 */
export async function readAdminState(deps: ControlDeps): Promise<AdminState> {
  const [control, kv] = await Promise.all([deps.control.state(), readReplica(deps)]);
  if ('ok' in control)
    throw new AdminError(control.status, control.error, control.issues, control.retryAfterSeconds);
  const config = control.config;
  // Drift is what KV holds now, read here, whatever the object last found: a `config` or
  // `kill:api` edited or deleted by hand shows at once (the object's alarm repairs it).
  // Version 0 untouched and an empty KV mean the same thing (the safe default): no drift.
  const untouched = control.version === 0 && kv.version === null && kv.source === 'safe-default';
  const drift = kv.readable && !untouched && (kv.version !== control.version || kv.apiKill !== control.kill);
  // Seen here first: the object reads KV back itself and repairs it (then retries from its alarm).
  if (drift) await deps.control.checkReplica();
  const unreadable = parseKillSwitch(kv.hand).unreadable;
  return {
    version: control.version,
    state: config.rollout.state,
    percent: config.rollout.percent,
    config,
    kill: {
      ...killState(control.kill, kv.hand, kv.handBypass),
      ...(unreadable ? { handUnreadable: unreadable } : {}),
    },
    source: kv.source,
    replica: {
      ...control.replica,
      lagging: control.replica.lagging || drift,
      kvVersion: kv.version,
      kvKill: kv.apiKill,
    },
    guard: control.verdict,
    ...(kv.issues ? { issues: kv.issues } : {}),
  };
}

interface ReplicaView {
  readable: boolean;
  version: number | null;
  source: AdminState['source'];
  hand: string | null;
  /** KV `bypass`, set by hand. */
  handBypass: string | null;
  apiKill: string | null;
  issues?: string[];
}

async function readReplica(deps: ControlDeps): Promise<ReplicaView> {
  let values: Map<string, string | null>;
  try {
    values = await deps.kv.get([CONFIG_KEY, KILL_SWITCH_KEY, API_KILL_SWITCH_KEY, BYPASS_KEY], 'text');
  } catch (error) {
    deps.logger.warn('GET /state: KV unreadable', { error: String(error) });
    const source = (await deps.store.read()).source;
    return {
      readable: false,
      version: null,
      source: source === 'safe-default' ? 'safe-default' : 'last-known-good',
      hand: null,
      handBypass: null,
      apiKill: null,
      issues: ['KV is unreadable'],
    };
  }
  const hand = values.get(KILL_SWITCH_KEY) ?? null;
  const apiKill = values.get(API_KILL_SWITCH_KEY) ?? null;
  const text = values.get(CONFIG_KEY) ?? null;
  const seen = { readable: true, hand, apiKill, handBypass: values.get(BYPASS_KEY) ?? null };
  if (text === null) return { ...seen, version: null, source: 'safe-default' };
  const parsed = parseConfig(text);
  if (parsed.ok) return { ...seen, version: parsed.config.version, source: 'kv' };
  const snapshot = await deps.store.read();
  const source = snapshot.source === 'safe-default' ? 'safe-default' : 'last-known-good';
  return { ...seen, version: null, source, issues: parsed.issues };
}

/**
 * The hand-set bypass (KV `bypass`), or null when none or KV is unreadable: write answers show it.
 */
export async function readHandBypass(deps: Pick<ControlDeps, 'kv'>): Promise<string | null> {
  try {
    return await deps.kv.get(BYPASS_KEY, 'text');
  } catch {
    return null;
  }
}

/**
 * The hand-set kill switch (KV `kill`), or null when none or KV is unreadable. Write answers
 * name it, because the API cannot lift it.
 */
export async function readHandKill(deps: Pick<ControlDeps, 'kv'>): Promise<string | null> {
  try {
    return await deps.kv.get(KILL_SWITCH_KEY, 'text');
  } catch {
    return null;
  }
}
