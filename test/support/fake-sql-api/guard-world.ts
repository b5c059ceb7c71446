import { env } from 'cloudflare:workers';
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { inject } from 'vitest';
import { RolloutConfigSchema, type RolloutConfig } from '../../../src/config/config-schema';
import type { CohortStats, GuardVerdictRecord } from '../../../src/guard/analyze-canary';
import type { AuditEntry } from '../../../src/admin/history-and-audit';
import { CONTROL_OBJECT_NAME } from '../../../worker/control/single-writer/control-plane';
import { cohortStatsQuery, trafficSplitQuery, type StatsWindow } from '../../../src/metrics/queries';
import type { ScheduledHandler } from '../../../worker/control/scheduled';
import type { FakeSqlAnswer, FakeSqlRule } from './server';
import {
  cohortStatsAnswer,
  evenTraffic,
  fakeSqlApi,
  newAccountId,
  trafficSplitAnswer,
  webhookReceiver,
  type TrafficInput,
} from './control';

/** The dataset the guard queries under the top-level wrangler.toml (ENVIRONMENT=development). */
const DATASET = 'edge_rollout';
const TOKEN = 'e2e-analytics-read-token';

/** The guard's recent-window query for the default thresholds, exactly as the guard sends it. */
export const RECENT_SQL = cohortStatsQuery({ dataset: DATASET, window: { lastMinutes: 5 } });

/** The query over a bake window starting at `startedMs`. */
export function bakeSql(startedMs: number): string {
  const window: StatsWindow = { sinceEpochSeconds: Math.floor(startedMs / 1000) };
  return cohortStatsQuery({ dataset: DATASET, window });
}

/** The guard's traffic-split query over the recent window (SRM, propagation, versions). */
export const RECENT_TRAFFIC_SQL = trafficSplitQuery({ dataset: DATASET, window: { lastMinutes: 5 } });

/** The traffic-split query over a window starting at `startedMs` (a young step, or a bake). */
export function trafficSqlSince(startedMs: number): string {
  return trafficSplitQuery({ dataset: DATASET, window: { sinceEpochSeconds: Math.floor(startedMs / 1000) } });
}

/** An answer of the fake SQL API carrying these traffic rows. */
export function trafficAnswer(rows: TrafficInput[]): FakeSqlAnswer {
  return { json: trafficSplitAnswer(rows) };
}

/**
 * Rules answering every traffic-split query with a fully propagated, well-split canary at
 * `configVersion` and `percent` in the minute of each `minutesMs`.
 */
export function evenTrafficRule(options: {
  minutesMs: number[];
  configVersion: number;
  percent: number;
}): FakeSqlRule {
  return { sqlIncludes: 'AS minute', answer: trafficAnswer(evenTraffic(options)) };
}

/** An answer of the fake SQL API carrying these stats. */
export function statsAnswer(
  canary: Partial<CohortStats>,
  stable: Partial<CohortStats> = STABLE,
): FakeSqlAnswer {
  return { json: cohortStatsAnswer({ canary, stable }) };
}

/** A steady stable cohort to compare with. */
export const STABLE: Partial<CohortStats> = { requests: 9000, errors: 9, p95Ms: 350 };

/**
 * One guard e2e scenario against the real Miniflare KV, the fake SQL API and the webhook
 * receiver: its own account id and webhook id, env vars pointing at them, and readers for what
 * the guard left behind (config, audit entries, verdict, incident, webhook calls, queries).
 *
 * @example
 * const world = await guardWorld();
 * await world.putConfig({ rollout: { percent: 10, state: 'ramping' } });
 * await world.answer([{ sql: RECENT_SQL, answer: statsAnswer({ requests: 1000, errors: 90 }) }]);
 * await world.run(worker.scheduled);
 */
export async function guardWorld(vars: Record<string, string> = {}) {
  const account = newAccountId();
  const hook = newAccountId();
  const api = fakeSqlApi(`http://127.0.0.1:${inject('sqlApiPort')}`);
  const hooks = webhookReceiver(`http://127.0.0.1:${inject('webhookPort')}`);
  const base = env as unknown as ControlEnv;
  const kv = base.ROLLOUT;
  await clearKv(kv);
  // Each scenario gets its own control-plane object: the production name, mapped to a fresh one.
  const scenario = newAccountId();
  const control = new Proxy(base.CONTROL, {
    get(target, prop) {
      if (prop === 'idFromName') return (name: string) => target.idFromName(`${name}-${scenario}`);
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const stub = () => control.get(control.idFromName(CONTROL_OBJECT_NAME));
  const testEnv = {
    ...base,
    CONTROL: control,
    STABLE_ORIGIN: `http://127.0.0.1:${inject('stablePort')}`,
    CANARY_ORIGIN: `http://127.0.0.1:${inject('canaryPort')}`,
    CF_ACCOUNT_ID: account,
    CF_API_TOKEN: TOKEN,
    ANALYTICS_SQL_BASE_URL: api.baseUrl,
    GUARD_WEBHOOK_URL: hooks.url(hook),
    ...vars,
  } as ControlEnv;
  return {
    env: testEnv,
    kv,
    hook,
    /**
     * Writes a config (a canary at 10 % by default) to KV, where the control plane imports it on
     * its first start (the scenario's first guard run or admin call), as on an existing deployment.
     */
    async putConfig(
      overrides: { version?: number; rollout?: Record<string, unknown> } = {},
    ): Promise<RolloutConfig> {
      const config = RolloutConfigSchema.parse({
        version: overrides.version ?? 5,
        rollout: { percent: 10, salt: 'launch-1', state: 'ramping', ...overrides.rollout },
      });
      await kv.put('config', JSON.stringify(config));
      return config;
    },
    async config(): Promise<RolloutConfig> {
      return RolloutConfigSchema.parse(JSON.parse((await kv.get('config', 'text'))!));
    },
    /** The audit log the control plane keeps, newest first. */
    async audit(): Promise<
      { actor: string; action: string; version: number; reason?: string; at: string }[]
    > {
      const page = await stub().audit(100, undefined, {
        STABLE_ORIGIN: testEnv.STABLE_ORIGIN,
        CANARY_ORIGIN: testEnv.CANARY_ORIGIN,
        DEFAULT_FLAGS: {},
      });
      return 'entries' in page ? (page.entries as AuditEntry[]) : [];
    },
    async verdict(): Promise<GuardVerdictRecord | null> {
      return (await stub().guardState()).verdict as GuardVerdictRecord | null;
    },
    async incident(): Promise<unknown> {
      return (await stub().guardState()).incident;
    },
    /**
     * Scripts the fake SQL API for this scenario's account. A traffic-split query no rule
     * answers gets an empty answer (no split to test, nothing propagated), and so does a
     * cohort-stats query no rule answers (e.g. the whole-step window of a run: nothing beyond
     * the recent window).
     */
    answer: (rules: FakeSqlRule[]) =>
      api.script(account, TOKEN, [
        ...rules,
        { sqlIncludes: 'AS minute', answer: trafficAnswer([]) },
        { sqlIncludes: 'AS storedUploadsFailed', answer: { json: cohortStatsAnswer({}) } },
      ]),
    queries: () => api.requests(account),
    webhookCalls: () => hooks.calls(hook),
    webhookAnswers: (status: number) => hooks.answerWith(hook, status),
    /** One Cron Trigger invocation at `scheduledTime`, waited on like the runtime would. */
    async run(handler: ScheduledHandler | undefined, scheduledTime = Date.now()): Promise<void> {
      if (!handler) throw new Error('the Worker has no scheduled handler');
      const ctx = createExecutionContext();
      await handler(createScheduledController({ scheduledTime, cron: '* * * * *' }), testEnv, ctx);
      await waitOnExecutionContext(ctx);
    },
  };
}

// Storage is isolated per test file, not per test: each scenario starts from an empty namespace.
async function clearKv(kv: KVNamespace): Promise<void> {
  const { keys } = await kv.list();
  await Promise.all(keys.map((key) => kv.delete(key.name)));
}
