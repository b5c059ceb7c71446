import * as z from 'zod/mini';
import type { GuardPolicySchema, ThresholdsSchema } from '../config/guard-config-schema';
import { describeIssues } from '../config/parse-config';

/**
 * The launch thresholds. This object is the single source for the guard, the alert rules in
 * monitoring/alerts and the thresholds table in docs/GUARD.md.
 */
export const DEFAULT_THRESHOLDS = {
  /** Abort when the canary's error rate exceeds this percent over the window. */
  maxErrorRatePercent: 1,
  /** The error-rate window, in minutes. */
  errorWindowMinutes: 5,
  /** Abort when the canary's p95 latency exceeds this many milliseconds. */
  maxP95Ms: 2000,
  /** Abort when email delivery success falls below this percent. */
  minEmailDeliveryPercent: 90,
  /** Abort when file-upload failures exceed this percent. */
  maxUploadFailurePercent: 5,
  /** Below this many canary requests in the window the verdict is inconclusive. */
  minRequests: 50,
  /** The canary's error rate must also exceed stable's by this many points to count as a breach. */
  stableMarginPercent: 0.5,
  /** Email delivery and upload rates built on fewer outcomes than this are not judged. */
  minOutcomeSamples: 10,
} as const;

// The config's guard sections are declared with the config schema (src/config), which the
// guard reads; they are re-exported here for the guard's callers.
export { GUARD_METRICS, GuardPolicySchema, ThresholdsSchema } from '../config/guard-config-schema';

/** The guard's policy defaults. */
export const DEFAULT_GUARD_POLICY = {
  consecutiveHealthyRuns: 3,
  inconclusiveLimit: 30,
  srmAction: 'pause',
  srmPValue: 0.001,
  minPropagationPercent: 99,
} as const;

/** A policy with every default applied. */
export interface GuardPolicy {
  consecutiveHealthyRuns: number;
  inconclusiveLimit: number;
  srmAction: 'pause' | 'abort';
  srmPValue: number;
  minPropagationPercent: number;
  dryRun: string[];
  routes: Record<string, number>;
  workerVersion?: string;
}

/**
 * Merges a launch's policy over the defaults.
 *
 * @example
 * resolveGuardPolicy({ dryRun: ['p95'] }).consecutiveHealthyRuns; // 3
 */
export function resolveGuardPolicy(input: z.infer<typeof GuardPolicySchema> | undefined): GuardPolicy {
  const given = stripUndefined(input ?? {});
  return {
    ...DEFAULT_GUARD_POLICY,
    ...given,
    dryRun: given.dryRun ?? [],
    routes: given.routes ?? {},
  };
}

/** Thresholds with every field resolved. */
export type Thresholds = { -readonly [K in keyof typeof DEFAULT_THRESHOLDS]: number };

/** Merges per-launch overrides over the defaults. */
export function resolveThresholds(overrides: z.infer<typeof ThresholdsSchema> | undefined): Thresholds {
  return { ...DEFAULT_THRESHOLDS, ...stripUndefined(overrides ?? {}) };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The Analytics Engine dataset each environment writes to, by its `ENVIRONMENT` var. These must
 * match the `analytics_engine_datasets` bindings in wrangler.toml (a unit test checks that), so
 * the guard reads the same table the splitter writes.
 */
export const ANALYTICS_DATASETS: Readonly<Record<string, string>> = Object.freeze({
  development: 'edge_rollout',
  staging: 'edge_rollout_staging',
  production: 'edge_rollout',
});

/** The dataset of an environment not listed in {@link ANALYTICS_DATASETS}. */
export const DEFAULT_ANALYTICS_DATASET = 'edge_rollout';

/**
 * The dataset the guard queries: an explicit `ANALYTICS_DATASET` var wins, else the one of the
 * environment.
 *
 * @example
 * analyticsDatasetFor('staging'); // 'edge_rollout_staging'
 */
export function analyticsDatasetFor(environment: string, explicit?: string): string {
  return explicit ?? ANALYTICS_DATASETS[environment] ?? DEFAULT_ANALYTICS_DATASET;
}

/** The SQL API's public address; tests and self-hosted stand-ins override it. */
export const DEFAULT_ANALYTICS_SQL_BASE_URL = 'https://api.cloudflare.com';

/**
 * An http(s) URL, trimmed. A refinement rather than `z.url()`: zod's URL format brings a schema
 * class of its own into the Worker bundle for these two vars.
 */
const HttpUrlSchema = z.pipe(
  z.string({ error: 'must be an http(s) URL' }),
  z.transform((text, ctx) => {
    const trimmed = text.trim();
    try {
      // The scheme check keeps zod's: `http:example.com` parses, but is not meant.
      if (/^https?:\/\//i.test(trimmed) && new URL(trimmed)) return trimmed.replace(/[\t\n\r]/g, '');
    } catch {
      // not a URL
    }
    ctx.issues.push({ code: 'custom', message: 'must be an http(s) URL', input: text });
    return z.NEVER;
  }),
);

const GuardVarsSchema = z.object({
  CF_ACCOUNT_ID: z.optional(
    z.string().check(z.regex(/^[0-9a-f]{32}$/, 'CF_ACCOUNT_ID must be the 32-hex-digit account id')),
  ),
  CF_API_TOKEN: z.optional(
    z.string().check(z.regex(/^[\x21-\x7e]{1,512}$/, 'CF_API_TOKEN must be one printable token')),
  ),
  ANALYTICS_SQL_BASE_URL: z._default(HttpUrlSchema, DEFAULT_ANALYTICS_SQL_BASE_URL),
  ANALYTICS_DATASET: z.optional(
    z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'ANALYTICS_DATASET must be a dataset name')),
  ),
  GUARD_WEBHOOK_URL: z.optional(HttpUrlSchema),
  ENVIRONMENT: z._default(z.string(), 'development'),
});

/** What the guard needs from the Worker's vars and secrets. */
export interface GuardSettings {
  sql: { baseUrl: string; accountId: string; apiToken: string };
  dataset: string;
  /** A secret: never logged. */
  webhookUrl?: string;
}

/** The guard's settings, or why it is disabled. */
export type GuardSettingsResult =
  { enabled: true; settings: GuardSettings } | { enabled: false; reason: string };

/**
 * Validates the guard's vars. Without `CF_ACCOUNT_ID` and `CF_API_TOKEN` the guard is disabled
 * (a local run has neither); an invalid value disables it too, naming the variable. Empty
 * strings count as unset, since that is how a cleared secret looks.
 *
 * @example
 * const result = parseGuardSettings(env);
 * if (!result.enabled) logger.warn('guard disabled', { reason: result.reason });
 */
export function parseGuardSettings(vars: Record<string, unknown>): GuardSettingsResult {
  const present = Object.fromEntries(
    Object.entries(vars).filter(([, value]) => typeof value === 'string' && value !== ''),
  );
  const parsed = GuardVarsSchema.safeParse(present);
  if (!parsed.success)
    return { enabled: false, reason: `invalid guard settings: ${describeIssues(parsed.error).join('; ')}` };
  const guard = parsed.data;
  if (!guard.CF_ACCOUNT_ID || !guard.CF_API_TOKEN)
    return {
      enabled: false,
      reason:
        'CF_ACCOUNT_ID and CF_API_TOKEN are not both set, so the Analytics Engine SQL API cannot be read',
    };
  return {
    enabled: true,
    settings: {
      sql: {
        baseUrl: guard.ANALYTICS_SQL_BASE_URL,
        accountId: guard.CF_ACCOUNT_ID,
        apiToken: guard.CF_API_TOKEN,
      },
      dataset: analyticsDatasetFor(guard.ENVIRONMENT, guard.ANALYTICS_DATASET),
      webhookUrl: guard.GUARD_WEBHOOK_URL,
    },
  };
}
