import { env } from 'cloudflare:workers';
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { inject } from 'vitest';
import { RolloutConfigSchema, type RolloutConfig } from '../../../src/config/config-schema';
import type { CohortStats, GuardVerdictRecord } from '../../../src/guard/analyze-canary';
import { GUARD_INCIDENT_KEY, GUARD_VERDICT_KEY } from '../../../src/guard/guard-ports';
import { cohortStatsQuery, type StatsWindow } from '../../../src/metrics/queries';
import type { Env } from '../../../worker/env';
import type { ScheduledHandler } from '../../../worker/scheduled';
import type { FakeSqlAnswer, FakeSqlRule } from './server';
import { cohortStatsAnswer, fakeSqlApi, newAccountId, webhookReceiver } from './control';

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
  const base = env as unknown as Env;
  const kv = base.ROLLOUT;
  await clearKv(kv);
  const testEnv: Env = {
    ...base,
    STABLE_ORIGIN: `http://127.0.0.1:${inject('stablePort')}`,
    CANARY_ORIGIN: `http://127.0.0.1:${inject('canaryPort')}`,
    CF_ACCOUNT_ID: account,
    CF_API_TOKEN: TOKEN,
    ANALYTICS_SQL_BASE_URL: api.baseUrl,
    GUARD_WEBHOOK_URL: hooks.url(hook),
    ...vars,
  };
  return {
    env: testEnv,
    kv,
    hook,
    /** Writes a config (a canary at 10 % by default) to KV. */
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
    async audit(): Promise<
      { actor: string; action: string; version: number; reason?: string; at: string }[]
    > {
      const { keys } = await kv.list({ prefix: 'audit:' });
      return Promise.all(keys.map(async (key) => JSON.parse((await kv.get(key.name, 'text'))!)));
    },
    async verdict(): Promise<GuardVerdictRecord | null> {
      const text = await kv.get(GUARD_VERDICT_KEY, 'text');
      return text === null ? null : (JSON.parse(text) as GuardVerdictRecord);
    },
    async incident(): Promise<unknown> {
      const text = await kv.get(GUARD_INCIDENT_KEY, 'text');
      return text === null ? null : JSON.parse(text);
    },
    /** Scripts the fake SQL API for this scenario's account. */
    answer: (rules: FakeSqlRule[]) => api.script(account, TOKEN, rules),
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
