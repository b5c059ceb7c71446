import * as z from 'zod/mini';

/**
 * The guard's sections of the rollout config (`thresholds`, `guard`, `probes`): declared here,
 * with the rest of the config schema, so the config depends on nothing of the guard; the guard
 * reads them and fills in its defaults.
 */

/** Per-launch overrides of `DEFAULT_THRESHOLDS` (src/guard/guard-settings.ts); every field is optional. */
export const ThresholdsSchema = z.strictObject({
  maxErrorRatePercent: z.optional(z.number().check(z.gte(0), z.lte(100))),
  errorWindowMinutes: z.optional(z.int().check(z.gte(1), z.lte(60))),
  maxP95Ms: z.optional(z.number().check(z.gt(0), z.lte(600_000))),
  minEmailDeliveryPercent: z.optional(z.number().check(z.gte(0), z.lte(100))),
  maxUploadFailurePercent: z.optional(z.number().check(z.gte(0), z.lte(100))),
  minRequests: z.optional(z.int().check(z.gte(1), z.lte(10_000_000))),
  stableMarginPercent: z.optional(z.number().check(z.gte(0), z.lte(100))),
  minOutcomeSamples: z.optional(z.int().check(z.gte(1), z.lte(10_000_000))),
});

/** The metrics of the verdict table a launch can set to dry run, or route thresholds can name. */
export const GUARD_METRICS = ['errorRate', 'p95', 'emailDelivery', 'uploadFailure', 'srm'] as const;

const RouteNameRef = z.string().check(z.regex(/^[a-z][a-z0-9_]{0,47}$/, 'must be a business route name'));

/**
 * How the guard acts on its verdicts, per launch (the config's `guard` object). Every field is
 * optional; `DEFAULT_GUARD_POLICY` fills the rest.
 */
export const GuardPolicySchema = z.strictObject({
  /** Consecutive healthy runs a step needs, on top of its bake time, before it advances. */
  consecutiveHealthyRuns: z.optional(z.int().check(z.gte(1), z.lte(1440))),
  /** Consecutive inconclusive runs after which a scheduled, ramping rollout is paused. */
  inconclusiveLimit: z.optional(z.int().check(z.gte(1), z.lte(10_080))),
  /** What a sample-ratio mismatch does: pause the schedule (default) or abort the canary. */
  srmAction: z.optional(z.enum(['pause', 'abort'])),
  /** The p-value below which the split counts as mismatched. */
  srmPValue: z.optional(z.number().check(z.gt(0), z.lte(0.1))),
  /** Share of a minute's requests that must serve the step's config version before its bake starts. */
  minPropagationPercent: z.optional(z.number().check(z.gt(0), z.lte(100))),
  /** Metrics judged and shown but never acted on (`route:<name>` for a route threshold). */
  dryRun: z.optional(
    z
      .array(
        z.union([
          z.enum(GUARD_METRICS),
          z.string().check(z.regex(/^route:[a-z][a-z0-9_]{0,47}$/, 'must be a metric or route:<name>')),
        ]),
      )
      .check(z.maxLength(60)),
  ),
  /** Minimum success percent per business route, e.g. `{"invoice_created": 99}`. */
  routes: z.optional(
    z
      .record(RouteNameRef, z.number().check(z.gte(0), z.lte(100)))
      .check(z.refine((routes) => Object.keys(routes).length <= 50, 'at most 50 route thresholds')),
  ),
  /** Judge only the requests of this Worker version (a `wrangler versions deploy` split of the splitter). */
  workerVersion: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be a Worker version id')),
  ),
});

// A path with an optional query: no scheme, no fragment, no spaces, not protocol-relative.
const PROBE_PATH = /^\/(?!\/)[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,255}$/;

/**
 * The config's `probes` section. Without it, nothing is probed. Defaults fill the rest
 * (`resolveProbeSettings` in src/guard/origin-probes.ts).
 *
 * @example
 * { "probes": { "path": "/health", "expectedStatus": 200, "timeoutMs": 5000, "failureThreshold": 3 } }
 */
export const ProbeSettingsSchema = z.strictObject({
  /** Requested on each origin under its path prefix, e.g. `/health`. */
  path: z.string().check(z.regex(PROBE_PATH, 'must be a path like /health (no scheme, fragment or spaces)')),
  /** The status a healthy origin answers (default 200); anything else is a failure. */
  expectedStatus: z.optional(z.int().check(z.gte(100), z.lte(599))),
  /** How long a probe may take before it counts as failed (default 5000 ms). */
  timeoutMs: z.optional(z.int().check(z.gte(100), z.lte(30_000))),
  /** Failures in a row that abort the canary or announce a stable outage (default 3). */
  failureThreshold: z.optional(z.int().check(z.gte(1), z.lte(60))),
});
