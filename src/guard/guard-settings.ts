import * as z from 'zod/mini';
import { describeIssues } from '../config/describe-issues';
import { analyticsDatasetFor } from './analytics-dataset';

/** The SQL API's public address; tests and self-hosted stand-ins override it. */
export const DEFAULT_ANALYTICS_SQL_BASE_URL = 'https://api.cloudflare.com';

const HttpUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

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
