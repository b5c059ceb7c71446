import * as z from 'zod/mini';
import { ThresholdsSchema } from '../guard/thresholds';
import { CookieNameSchema, FlagNameSchema, HeaderNameSchema, RouteNameSchema } from './names';
import { OriginUrlSchema } from './origin-url';
import { PercentSchema } from './percent';
import { RolloutStateSchema } from './rollout-state';

/** One feature flag: `enabled` turns its rollout rule on; visitors outside the split get `default`. */
export const FlagSchema = z.strictObject({
  enabled: z.boolean(),
  percent: z._default(PercentSchema, 100),
  /** Hash seed; defaults to the flag's name so flags split independently. */
  seed: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  default: z._default(z.boolean(), false),
});

const RolloutSchema = z.strictObject({
  percent: PercentSchema,
  /** Changing the salt reshuffles every visitor; nothing else does. */
  salt: z.string().check(z.minLength(1), z.maxLength(64)),
  state: z._default(RolloutStateSchema, 'idle'),
  /** Optional step schedule for the guard, e.g. [10, 50, 100]. */
  steps: z.optional(z.array(PercentSchema).check(z.minLength(1), z.maxLength(20))),
  /** Minutes a step must stay healthy before the guard advances it. */
  bakeMinutes: z._default(z.int().check(z.gte(1), z.lte(10_080)), 15),
  /** When the current percent was set (ISO time); the guard's bake time counts from here. */
  stepStartedAt: z.optional(z.iso.datetime()),
});

const StickinessSchema = z.strictObject({
  cookieName: z._default(CookieNameSchema, 'rollout_id'),
  maxAgeSeconds: z._default(z.int().check(z.gte(60), z.lte(400 * 86_400)), 30 * 86_400),
  /** A header set by the app's auth (e.g. a user id) that, when present, decides the cohort. */
  identityHeader: z.optional(HeaderNameSchema),
});

const FailoverSchema = z.strictObject({
  /** Canary statuses that make a GET/HEAD replay on stable. */
  statuses: z._default(
    z.array(z.int().check(z.gte(500), z.lte(599))).check(z.maxLength(100)),
    [502, 503, 504],
  ),
  /** How long an origin may take to send its response headers. */
  timeoutMs: z._default(z.int().check(z.gte(100), z.lte(300_000)), 10_000),
});

/** A business route: requests matching it are counted under `name`, with success by status. */
export const BusinessRouteSchema = z.strictObject({
  name: RouteNameSchema,
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
  /** A URLPattern pathname, e.g. `/api/invoices` or `/api/templates/:id/use`. */
  pattern: z.string().check(z.minLength(1), z.maxLength(256), z.startsWith('/')),
  /** Statuses counted as success: `2xx` or any status below 400 (`2xx-3xx`). */
  success: z._default(z.enum(['2xx', '2xx-3xx']), '2xx'),
});

/**
 * The rollout config as stored in KV under the key `config`. Strict: unknown fields are errors,
 * so a typo in an admin body is a 400, never a silently ignored setting.
 */
export const RolloutConfigSchema = z.strictObject({
  /** Bumped by every accepted write; `If-Match` compares against it. */
  version: z.int().check(z.gte(0)),
  /** Overrides STABLE_ORIGIN / CANARY_ORIGIN. */
  origins: z.optional(z.strictObject({ stable: OriginUrlSchema, canary: OriginUrlSchema })),
  rollout: RolloutSchema,
  stickiness: z._default(StickinessSchema, { cookieName: 'rollout_id', maxAgeSeconds: 30 * 86_400 }),
  flags: z._default(
    z
      .record(FlagNameSchema, FlagSchema)
      .check(z.refine((flags) => Object.keys(flags).length <= 200, 'at most 200 flags')),
    {},
  ),
  failover: z._default(FailoverSchema, { statuses: [502, 503, 504], timeoutMs: 10_000 }),
  /** Inject `<script>window.__FLAGS__=…</script>` into HTML responses. */
  bootstrapFlags: z._default(z.boolean(), false),
  routes: z._default(z.array(BusinessRouteSchema).check(z.maxLength(50)), []),
  /** Per-launch overrides of the guard thresholds. */
  thresholds: z.optional(ThresholdsSchema),
});

/** A validated rollout config (defaults applied). */
export type RolloutConfig = z.infer<typeof RolloutConfigSchema>;
/** A config as written by a person (defaults may be left out). */
export type RolloutConfigInput = z.input<typeof RolloutConfigSchema>;
/** One validated flag. */
export type FlagConfig = z.infer<typeof FlagSchema>;
/** One validated business route. */
export type BusinessRoute = z.infer<typeof BusinessRouteSchema>;
