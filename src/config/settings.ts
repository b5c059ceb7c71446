import * as z from 'zod/mini';
import { FlagNameSchema, OriginUrlSchema, recordWithoutProto } from './config-schema';
import { describeIssues } from './parse-config';

const optionalSecret = z.optional(z.string());

/** The shortest admin token accepted: 32 characters (`openssl rand -hex 32` makes 64). */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

/** The shortest `OVERRIDE_SECRET` accepted (the HMAC key of QA override links): 32 characters. */
export const MIN_OVERRIDE_SECRET_LENGTH = 32;

/** A secret of at least `min` characters; empty means unset, as in `.dev.vars`. Issues name it by path. */
function longSecret(min: number) {
  return z.optional(
    z
      .string()
      .check(
        z.refine(
          (value) => value === '' || value.length >= min,
          `must be at least ${min} characters (openssl rand -hex 32 makes one)`,
        ),
      ),
  );
}

/**
 * The secrets production needs that an operator may waive, knowingly, through the var
 * `WAIVE_SECRETS` (docs/CONFIGURATION.md): without `GUARD_WEBHOOK_URL` an abort notifies
 * nobody; without `SENTRY_DSN` exceptions are only in the Workers logs.
 */
export const WAIVABLE_SECRETS = ['GUARD_WEBHOOK_URL', 'SENTRY_DSN'] as const;

/** `WAIVE_SECRETS`: comma-separated names of {@link WAIVABLE_SECRETS}. */
const WaiveSecretsSchema = z.pipe(
  z.string(),
  z.transform((text, ctx) => {
    const names = text
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    const unknown = names.find((name) => !(WAIVABLE_SECRETS as readonly string[]).includes(name));
    if (unknown !== undefined) {
      ctx.issues.push({
        code: 'custom',
        message: `WAIVE_SECRETS may name only ${WAIVABLE_SECRETS.join(', ')} (not ${unknown.slice(0, 64)})`,
        input: text,
      });
      return z.NEVER;
    }
    return names as (typeof WAIVABLE_SECRETS)[number][];
  }),
);

/**
 * Path prefixes whose responses are the same for both cohorts (e.g. content-hashed assets):
 * comma-separated, each starting with `/`. Shared caches may store them; nothing else.
 */
const SharedCachePathsSchema = z.pipe(
  z.string(),
  z.transform((text, ctx) => {
    const prefixes = text
      .split(',')
      .map((prefix) => prefix.trim())
      .filter(Boolean);
    const bad = prefixes.find((prefix) => !/^\/[A-Za-z0-9._~!$&'()*+;=:@%/-]{0,127}$/.test(prefix));
    if (bad !== undefined || prefixes.length > 20) {
      ctx.issues.push({
        code: 'custom',
        message: 'SHARED_CACHE_PATHS must be up to 20 comma-separated path prefixes like /assets/',
        input: text,
      });
      return z.NEVER;
    }
    return prefixes;
  }),
);

const DefaultFlagsSchema = z.pipe(
  z.string(),
  z.transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.issues.push({
        code: 'custom',
        message: 'DEFAULT_FLAGS must be a JSON object of flag → boolean',
        input: text,
      });
      return z.NEVER;
    }
  }),
);

/**
 * Where the OFREP endpoints live: `/` serves `/ofrep/v1/...`, `/edge` serves `/edge/ofrep/v1/...`
 * (OpenFeature clients append `/ofrep/v1/...` to their base URL), `off` proxies `/ofrep` like any path.
 */
const OfrepBasePathSchema = z
  .string()
  .check(
    z.regex(
      /^(off|\/|(\/[A-Za-z0-9_-]{1,64}){1,4})$/,
      'OFREP_BASE_PATH must be /, off, or a path like /edge (up to 4 segments of [A-Za-z0-9_-])',
    ),
  );

/** Browser origins allowed to call the OFREP endpoints: comma-separated `scheme://host[:port]`. */
const CorsOriginsSchema = z.pipe(
  z.string(),
  z.transform((text, ctx) => {
    const origins = text
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean);
    for (const origin of origins) {
      let valid = false;
      try {
        const url = new URL(origin);
        valid = (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === origin;
      } catch {
        // not a URL
      }
      if (!valid) {
        ctx.issues.push({
          code: 'custom',
          message: `OFREP_CORS_ORIGINS: ${origin.slice(0, 80)} is not an origin like https://app.example.com`,
          input: text,
        });
        return z.NEVER;
      }
    }
    return origins;
  }),
);

/**
 * The Worker's vars and secrets. Parsed once per isolate; a bad value is a clear error naming
 * the variable, never a crash deep inside a request.
 */
export const SettingsSchema = z.object({
  STABLE_ORIGIN: OriginUrlSchema,
  CANARY_ORIGIN: OriginUrlSchema,
  DEFAULT_FLAGS: z._default(z.pipe(DefaultFlagsSchema, recordWithoutProto(FlagNameSchema, z.boolean())), {}),
  ADMIN_PREFIX: z._default(
    z.string().check(z.regex(/^\/[A-Za-z0-9_-]{1,64}$/, 'ADMIN_PREFIX must look like /__rollout')),
    '/__rollout',
  ),
  CONFIG_CACHE_SECONDS: z._default(
    z.pipe(
      // At least 1 s: 0 would mean one KV read per request.
      z
        .string()
        .check(
          z.regex(/^[1-9]\d{0,2}$/, 'CONFIG_CACHE_SECONDS must be a whole number of seconds from 1 to 999'),
        ),
      z.transform(Number),
    ),
    5,
  ),
  ENVIRONMENT: z._default(z.string().check(z.maxLength(32)), 'development'),
  // Empty means unset (as in `.dev.vars`): the admin API is then off, not the Worker.
  ADMIN_TOKEN: longSecret(MIN_ADMIN_TOKEN_LENGTH),
  /**
   * Named, scoped tokens (`name:role:sha256` entries), parsed by the control Worker's admin
   * auth, not here: a bad value turns the admin API off (503, logged), never the Worker.
   */
  ADMIN_TOKENS: optionalSecret,
  OVERRIDE_SECRET: longSecret(MIN_OVERRIDE_SECRET_LENGTH),
  WAIVE_SECRETS: z._default(WaiveSecretsSchema, []),
  ACCESS_TEAM_DOMAIN: optionalSecret,
  ACCESS_AUD: optionalSecret,
  SENTRY_DSN: optionalSecret,
  SENTRY_SAMPLE_RATE: optionalSecret,
  CF_ACCOUNT_ID: optionalSecret,
  CF_API_TOKEN: optionalSecret,
  ANALYTICS_SQL_BASE_URL: optionalSecret,
  GUARD_WEBHOOK_URL: optionalSecret,
  SHARED_CACHE_PATHS: z._default(SharedCachePathsSchema, []),
  OFREP_BASE_PATH: z._default(OfrepBasePathSchema, '/'),
  OFREP_CORS_ORIGINS: z._default(CorsOriginsSchema, []),
  /**
   * `public`: OFREP answers without a key. Staging and production must say `public` or set
   * OFREP_API_KEY, or OFREP stays closed (docs/OFREP.md). Read by `ofrepAccess`
   * (worker/edge/ofrep.ts); any other value keeps it closed there, never stopping visitors.
   */
  OFREP_ACCESS: z.optional(z.string().check(z.maxLength(64))),
  /** When set, OFREP clients send it as `Authorization: Bearer` or `X-API-Key`. */
  OFREP_API_KEY: z.optional(
    z
      .string()
      .check(z.regex(/^[\x21-\x7e]{16,256}$/, 'OFREP_API_KEY must be 16–256 visible ASCII characters')),
  ),
});

/** Parsed Worker settings. */
export type Settings = z.infer<typeof SettingsSchema>;

/** Settings, or the issues that make them unusable. */
export type SettingsResult = { ok: true; settings: Settings } | { ok: false; issues: string[] };

/**
 * Validates the Worker's vars. Only string-valued entries are considered: bindings are objects
 * and belong to worker/.
 */
export function parseSettings(vars: Record<string, unknown>): SettingsResult {
  const strings = Object.fromEntries(Object.entries(vars).filter(([, value]) => typeof value === 'string'));
  const result = SettingsSchema.safeParse(strings);
  return result.success
    ? { ok: true, settings: result.data }
    : { ok: false, issues: describeIssues(result.error) };
}
