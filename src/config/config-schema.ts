import * as z from 'zod/mini';
import type { KillSwitch, RolloutState } from '../vocabulary';
import { GuardPolicySchema, ProbeSettingsSchema, ThresholdsSchema } from './guard-config-schema';
import { parseJsonText, validate } from './parse-config';
import { flagConfigCheck } from './flag-checks';
import { FlagNameSchema, FlagSchema, PercentSchema, SegmentNameSchema, SegmentSchema } from './flag-schema';

export {
  FlagNameSchema,
  FlagSchema,
  PercentSchema,
  SegmentSchema,
  type FlagConfig,
  type Segment,
} from './flag-schema';

/**
 * The two values the Worker serves from the ROLLOUT namespace: the rollout config (a strict zod
 * schema, with the field schemas it is built from) and the kill switch (space-separated tokens).
 */

/** KV key of the rollout config. */
export const CONFIG_KEY = 'config';

/**
 * KV key of the emergency kill switch, next to `config` in the ROLLOUT namespace: edited by a
 * person with `wrangler kv key put`, never written by the control plane, so it always wins.
 */
export const KILL_SWITCH_KEY = 'kill';

/** KV key of the kill switch set through the admin API: the control plane's replica of it. */
export const API_KILL_SWITCH_KEY = 'kill:api';

/**
 * KV key of the hand-set bypass switch (`on` puts the edge in bypass mode), read in the same bulk
 * read as `kill`. Like `kill`, edited by a person and never written by the control plane; the API's
 * bypass travels as the `bypass` token of the API kill switch, inside the committed version.
 */
export const BYPASS_KEY = 'bypass';

/** A cookie name as RFC 6265 allows it (a token), kept short. */
const CookieNameSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'cookie names are 1–64 chars of [A-Za-z0-9_-]'));

/** An HTTP header name (lower-case token). */
const HeaderNameSchema = z
  .string()
  .check(z.regex(/^[a-z0-9-]{1,64}$/, 'header names are 1–64 lower-case chars of [a-z0-9-]'));

/** Business route names, used as an Analytics Engine blob. */
export const RouteNameSchema = z
  .string()
  .check(
    z.regex(/^[a-z][a-z0-9_]{0,31}$/, 'route names are 1–32 chars of [a-z0-9_], starting with a letter'),
  );

/** An http(s) origin base URL with no query or fragment; a path prefix is allowed. */
export const OriginUrlSchema = z.string().check(
  z.refine((value) => {
    try {
      const url = new URL(value);
      return (
        (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash && !url.username
      );
    } catch {
      return false;
    }
  }, 'origins must be http(s) URLs without query, fragment or credentials'),
);

/**
 * `z.record` that refuses a `__proto__` key. zod skips that key (assigning it would replace the
 * result's prototype), so `{"__proto__": …}` would be accepted and silently lost, whatever its
 * value; here it is an issue like any bad key. The leading transform leaves the JSON Schema as is.
 *
 * @example
 * recordWithoutProto(FlagNameSchema, z.boolean()).safeParse(JSON.parse('{"__proto__":true}')).success; // false
 */
export function recordWithoutProto<K extends z.core.$ZodRecordKey, V extends z.core.SomeType>(
  key: K,
  value: V,
) {
  return z.pipe(
    z.transform((input: unknown, ctx) => {
      if (typeof input === 'object' && input !== null && Object.hasOwn(input, '__proto__')) {
        ctx.issues.push({
          code: 'custom',
          message: '"__proto__" is not an allowed key',
          input,
          path: ['__proto__'],
        });
        return z.NEVER;
      }
      return input;
    }),
    z.record(key, value),
  );
}

/**
 * The rollout lifecycle. `idle` → `ramping` ⇄ `paused` → `promoted` → `finalized`, or `aborted`
 * from any live state. Transitions are enforced by the admin commands (src/admin).
 */
export const RolloutStateSchema = z.enum(['idle', 'ramping', 'paused', 'promoted', 'finalized', 'aborted']);

/** One of the lifecycle states. */
export type { KillSwitch, RolloutState } from '../vocabulary';
// The schema and the vocabulary's union must name the same states.
const sameStates: [z.infer<typeof RolloutStateSchema>, RolloutState] extends [
  RolloutState,
  z.infer<typeof RolloutStateSchema>,
]
  ? true
  : never = true;
void sameStates;

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
  pattern: z.string().check(z.minLength(1), z.maxLength(256), z.regex(/^\//, 'must start with /')),
  /** Statuses counted as success: `2xx` or any status below 400 (`2xx-3xx`). */
  success: z._default(z.enum(['2xx', '2xx-3xx']), '2xx'),
});

/**
 * The rollout config as stored in KV under the key `config`. Strict: unknown fields are errors,
 * so a typo in an admin body is a 400, never a silently ignored setting.
 */
export const RolloutConfigSchema = z
  .strictObject({
    /** Bumped by every accepted write; `If-Match` compares against it. */
    version: z.int().check(z.gte(0)),
    /** Overrides STABLE_ORIGIN / CANARY_ORIGIN. */
    origins: z.optional(z.strictObject({ stable: OriginUrlSchema, canary: OriginUrlSchema })),
    rollout: RolloutSchema,
    stickiness: z._default(StickinessSchema, { cookieName: 'rollout_id', maxAgeSeconds: 30 * 86_400 }),
    flags: z._default(recordWithoutProto(FlagNameSchema, FlagSchema), {}),
    /** Named condition sets that flag rules reuse (`{ "segment": "employees" }`). */
    segments: z._default(recordWithoutProto(SegmentNameSchema, SegmentSchema), {}),
    failover: z._default(FailoverSchema, { statuses: [502, 503, 504], timeoutMs: 10_000 }),
    /** Inject `<script>window.__FLAGS__=…</script>` into HTML responses. */
    bootstrapFlags: z._default(z.boolean(), false),
    routes: z._default(z.array(BusinessRouteSchema).check(z.maxLength(50)), []),
    /** Per-launch overrides of the guard thresholds. */
    thresholds: z.optional(ThresholdsSchema),
    /** How the guard acts: consecutive healthy runs, inconclusive limit, SRM action, dry-run metrics, route thresholds. */
    guard: z.optional(GuardPolicySchema),
    /** Uptime probes of both origins' health path each minute; off without it. */
    probes: z.optional(ProbeSettingsSchema),
  })
  .check(flagConfigCheck);

/** A validated rollout config (defaults applied). */
export type RolloutConfig = z.infer<typeof RolloutConfigSchema>;
/** A config as written by a person (defaults may be left out). */
export type RolloutConfigInput = z.input<typeof RolloutConfigSchema>;
/** One validated business route. */
export type BusinessRoute = z.infer<typeof BusinessRouteSchema>;

/**
 * The config served when KV has never yielded a valid one: everyone on stable and every flag at
 * its declared default (from DEFAULT_FLAGS).
 *
 * @example
 * safeDefaultConfig({ analytics: true }).rollout.percent; // 0
 */
export function safeDefaultConfig(defaultFlags: Readonly<Record<string, boolean>>): RolloutConfig {
  const flags = Object.fromEntries(
    Object.entries(defaultFlags).map(([name, value]) => [
      name,
      { enabled: false, percent: 100, default: value },
    ]),
  );
  return RolloutConfigSchema.parse({
    version: 0,
    rollout: { percent: 0, salt: 'default', state: 'idle' },
    flags,
  });
}

/** The kill switch when the key is absent. */
export const NO_KILL: KillSwitch = Object.freeze({
  canary: false,
  allFlags: false,
  flags: new Set<string>(),
  unknownTokens: [],
});

/** The longest kill switch text that is read; the admin API refuses longer ones, a longer hand kill fails safe. */
export const MAX_KILL_TEXT = 4096;

/**
 * Parses the kill switch value: tokens separated by spaces or commas.
 * `canary` stops the canary, `flag:NAME` forces one flag off, `flags` forces all flags off,
 * `all` does both, `bypass` turns bypass mode on (see {@link BYPASS_TOKEN}). Unknown tokens are collected for a warning, never thrown.
 *
 * A value that cannot be read fails safe: longer than {@link MAX_KILL_TEXT}, or not empty with no
 * token this parser knows (`yes`, `1`, `{"canary":true}`), it stops the canary and says why in
 * `unreadable`. Someone wrote a kill switch; guessing they meant nothing would be the unsafe
 * guess, and cutting a long value would silently drop what came after the cut.
 *
 * @example
 * parseKillSwitch('canary flag:emailDelivery'); // { canary: true, flags: {'emailDelivery'}, ... }
 * parseKillSwitch('stop it'); // { canary: true, unreadable: 'no known token …', ... }
 */
export function parseKillSwitch(text: string | null): KillSwitch {
  if (text === null || text.trim() === '') return NO_KILL;
  if (text.length > MAX_KILL_TEXT)
    return failSafeKill(`longer than ${MAX_KILL_TEXT} characters (${text.length}): canary stopped`);
  const flags = new Set<string>();
  const unknownTokens: string[] = [];
  let canary = false;
  let allFlags = false;
  let bypass = false;
  for (const token of text.split(/[\s,]+/).filter(Boolean)) {
    const lower = token.toLowerCase();
    if (lower === 'canary') canary = true;
    else if (lower === 'flags') allFlags = true;
    else if (lower === 'all') canary = allFlags = true;
    else if (lower.startsWith('flag:') && token.length > 5) flags.add(token.slice(5));
    else if (lower === BYPASS_TOKEN) bypass = true;
    else unknownTokens.push(token.slice(0, 64));
  }
  if (!canary && !allFlags && flags.size === 0 && !bypass)
    return {
      ...failSafeKill('no known token (canary, flags, all, flag:NAME): canary stopped'),
      unknownTokens,
    };
  return { canary, allFlags, flags, unknownTokens, ...(bypass ? { bypass } : {}) };
}

/**
 * The token of the kill switch text that turns bypass mode on. The API writes it (`PUT /bypass`)
 * into the API kill switch, so bypass is versioned and travels in the committed head like the
 * API kill; an edge one version back reads it as an unknown token, which fails safe (canary
 * stopped).
 */
export const BYPASS_TOKEN = 'bypass';

/** What the hand-set `bypass` key says: on or off, and why when its value was not a plain `on`/`off`. */
export interface HandBypass {
  on: boolean;
  /** Set when the value was neither `on` nor `off`: bypass is then on, as with an unreadable kill. */
  unreadable?: string;
}

/**
 * Parses KV `bypass`. Absent, empty or `off` is off; `on` is on. Anything else (`yes`, `true`,
 * a typo) is on too, and says so: someone wrote the emergency switch, and guessing they meant
 * nothing would be the unsafe guess (the same rule as {@link parseKillSwitch}).
 *
 * @example
 * parseHandBypass('on'); // { on: true }
 * parseHandBypass(null); // { on: false }
 * parseHandBypass('yes'); // { on: true, unreadable: 'value "yes" is not on or off: bypass on' }
 */
export function parseHandBypass(text: string | null): HandBypass {
  const value = text?.trim().toLowerCase() ?? '';
  if (value === '' || value === 'off') return { on: false };
  if (value === 'on') return { on: true };
  return { on: true, unreadable: `value ${JSON.stringify(value.slice(0, 32))} is not on or off: bypass on` };
}

function failSafeKill(unreadable: string): KillSwitch {
  return { canary: true, allFlags: false, flags: new Set<string>(), unknownTokens: [], unreadable };
}

/**
 * Both kill switches at once (the hand-set one and the API's): whatever either forces off is off.
 *
 * @example
 * unionKillSwitch(parseKillSwitch('canary'), parseKillSwitch('flag:templates')); // canary + templates
 */
export function unionKillSwitch(a: KillSwitch, b: KillSwitch): KillSwitch {
  if (b === NO_KILL) return a;
  if (a === NO_KILL) return b;
  return {
    canary: a.canary || b.canary,
    allFlags: a.allFlags || b.allFlags,
    flags: new Set([...a.flags, ...b.flags]),
    unknownTokens: [...a.unknownTokens, ...b.unknownTokens],
    ...(a.unreadable !== undefined || b.unreadable !== undefined
      ? { unreadable: a.unreadable ?? b.unreadable }
      : {}),
    ...(a.bypass || b.bypass ? { bypass: true } : {}),
  };
}

/** A parse result that never throws: either the config or readable issues. */
export type ConfigParseResult = { ok: true; config: RolloutConfig } | { ok: false; issues: string[] };

/**
 * Parses a config from raw KV text or an already-decoded value.
 */
export function parseConfig(raw: unknown): ConfigParseResult {
  const result =
    typeof raw === 'string'
      ? parseJsonText(raw, RolloutConfigSchema, 'config')
      : validate(raw, RolloutConfigSchema);
  return result.ok ? { ok: true, config: result.value } : result;
}
