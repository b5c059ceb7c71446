import type { RolloutControl } from './control/rollout-control';

// Written by hand, not by `wrangler types`: its output makes METRICS and CF_VERSION_METADATA
// required (local setups run without them), types vars as the literal values of wrangler.toml,
// and cannot see the secrets, so most of Env would be overridden anyway.

/** The Worker's bindings, vars and secrets (see wrangler.toml and .dev.vars.example). */
export interface Env {
  /** The read replica the splitter reads (`config`, `kill:api`) and the hand-set `kill`. */
  ROLLOUT: KVNamespace;
  /** The control plane: one Durable Object per rollout, the single writer. */
  CONTROL: DurableObjectNamespace<RolloutControl>;
  /**
   * The cockpit page and the OpenAPI document (worker/assets/), reachable only through the
   * Worker (`run_worker_first`); absent where the Worker runs without its assets.
   */
  ASSETS?: Fetcher;
  /** Per-request data points; absent in some local setups. */
  METRICS?: AnalyticsEngineDataset;
  /** The deployed Worker version. */
  CF_VERSION_METADATA?: WorkerVersionMetadata;
  STABLE_ORIGIN: string;
  CANARY_ORIGIN: string;
  DEFAULT_FLAGS?: string;
  ADMIN_PREFIX?: string;
  CONFIG_CACHE_SECONDS?: string;
  ENVIRONMENT?: string;
  ADMIN_TOKEN?: string;
  OVERRIDE_SECRET?: string;
  ACCESS_TEAM_DOMAIN?: string;
  ACCESS_AUD?: string;
  SENTRY_DSN?: string;
  SENTRY_SAMPLE_RATE?: string;
  CF_ACCOUNT_ID?: string;
  CF_API_TOKEN?: string;
  ANALYTICS_SQL_BASE_URL?: string;
  ANALYTICS_DATASET?: string;
  GUARD_WEBHOOK_URL?: string;
  /** Local runs only (`npm start`): post data points to this loopback collector instead of METRICS. */
  METRICS_COLLECTOR_URL?: string;
  OFREP_BASE_PATH?: string;
  OFREP_CORS_ORIGINS?: string;
  OFREP_API_KEY?: string;
}
