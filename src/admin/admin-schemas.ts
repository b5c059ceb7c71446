import * as z from 'zod/mini';
import {
  FlagNameSchema,
  PercentSchema,
  RolloutConfigSchema,
  RolloutStateSchema,
} from '../config/config-schema';
import { flagConfigCheck } from '../config/flag-checks';
import { FlagSchema, VariantNameSchema } from '../config/flag-schema';
import { GuardVerdictRecordSchema } from '../guard/analyze-canary';
import { AuditEntrySchema } from './history-and-audit';
import { FlagPinsSchema } from './override-token';

/** Why a change was made; kept in its audit entry. */
export const ReasonSchema = z.string().check(z.minLength(1), z.maxLength(500));

/**
 * `PUT /percent`.
 *
 * @example
 * PercentBodySchema.safeParse({ percent: 10 }).success; // true
 */
export const PercentBodySchema = z.strictObject({ percent: PercentSchema, reason: z.optional(ReasonSchema) });

/**
 * `PUT /flags/:name`, in one of three forms:
 * - `{"enabled", "percent"?}`: turn a flag on or off (and, for today's boolean flags, set the share
 *   of visitors who get it);
 * - `{"flag": {...}}`: the flag's whole definition, boolean (`{enabled, percent, default}`) or
 *   typed (`{type, variants, offVariant, rules, ...}`);
 * - `{"weights": {"rule"?, "split", "coverage"?}, "enabled"?}`: a new split for one rule of a typed
 *   flag (by index; without `rule`, the fallthrough), everything else kept.
 *
 * @example
 * FlagBodySchema.safeParse({ enabled: true, percent: 25 }).success; // true
 * FlagBodySchema.safeParse({ weights: { split: { classic: 20, modern: 80 } } }).success; // true
 */
export const FlagBodySchema = z
  .strictObject({
    enabled: z.optional(z.boolean()),
    percent: z.optional(PercentSchema),
    flag: z.optional(FlagSchema),
    weights: z.optional(
      z.strictObject({
        rule: z.optional(z.int().check(z.gte(0), z.lte(49))),
        split: z.record(VariantNameSchema, PercentSchema),
        coverage: z.optional(PercentSchema),
      }),
    ),
    /** Adds the flag when the config has none of that name; without it an unknown name is a 400. */
    create: z.optional(z.boolean()),
    reason: z.optional(ReasonSchema),
  })
  .check(
    z.superRefine((body, ctx) => {
      const problem =
        body.flag !== undefined
          ? body.enabled !== undefined || body.percent !== undefined || body.weights !== undefined
            ? '"flag" carries the whole definition: send it without "enabled", "percent" or "weights"'
            : undefined
          : body.weights !== undefined
            ? body.percent !== undefined
              ? '"weights" and "percent" cannot be sent together'
              : undefined
            : body.enabled === undefined
              ? 'send "enabled" (with an optional "percent"), "flag" (a whole definition) or "weights"'
              : undefined;
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: body, path: [] });
    }),
  );

/** A validated `PUT /flags/:name` body. */
export type FlagBody = z.infer<typeof FlagBodySchema>;

/** The optional body of `POST /promote|finalize|abort|pause|resume|undo`. */
export const ReasonBodySchema = z.strictObject({ reason: z.optional(ReasonSchema) });

/**
 * `PUT /kill`: what to force off. Replaces the whole kill switch; at least one thing must be
 * killed (`DELETE /kill` lifts it).
 *
 * @example
 * KillBodySchema.safeParse({ canary: true, flags: ['emailDelivery'] }).success; // true
 */
export const KillBodySchema = z
  .strictObject({
    canary: z.optional(z.boolean()),
    allFlags: z.optional(z.boolean()),
    flags: z.optional(z.array(FlagNameSchema).check(z.maxLength(200))),
    reason: z.optional(ReasonSchema),
  })
  .check(
    z.refine(
      (body) => body.canary === true || body.allFlags === true || (body.flags?.length ?? 0) > 0,
      'kill at least one thing: canary: true, allFlags: true or a flag name (DELETE /kill lifts the kill switch)',
    ),
  );

/** `POST /override-link`: a signed link that pins the browser opening it to one cohort. */
export const OverrideLinkBodySchema = z.strictObject({
  cohort: z.enum(['stable', 'canary']),
  ttlSeconds: z._default(z.int().check(z.gte(60), z.lte(604_800)), 3600),
  /**
   * Flags to pin for the browser, flag → variant (`on`/`off` for a boolean flag), e.g. every flag
   * of the launch `on`; each must be in the current config (docs/FLAGS.md, "QA").
   */
  flags: z.optional(FlagPinsSchema),
  /** Why the link is made: kept in the audit entry. */
  reason: z.optional(ReasonSchema),
});

const rolloutShape = RolloutConfigSchema.shape.rollout;

/**
 * `PUT /config`: a whole config. `version` may be left out; when given it must be the current
 * version (like `If-Match`). `rollout.state` may be left out and is then derived.
 */
export const ConfigBodySchema = z
  .strictObject({
    ...RolloutConfigSchema.shape,
    version: z.optional(z.int().check(z.gte(0))),
    rollout: z.extend(rolloutShape, { state: z.optional(RolloutStateSchema) }),
  })
  .check(flagConfigCheck);

/** A validated `PUT /config` body. */
export type ConfigBody = z.infer<typeof ConfigBodySchema>;

const digits = (max: number) =>
  z.string().check(z.regex(new RegExp(`^\\d{1,${max}}$`), 'must be a whole number'));

/** `GET /audit` query: `limit` 1–100 (default 50), `cursor` from the previous page. */
export const AuditQuerySchema = z.strictObject({
  limit: z._default(z.pipe(digits(3), z.pipe(z.transform(Number), z.int().check(z.gte(1), z.lte(100)))), 50),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
});

/**
 * `If-Match: <version>`; the strong entity tag `"7"`, as sent back from `ETag`, is accepted too.
 * Nothing else is: a weak tag (`W/"7"`) only says "about the same" (RFC 9110 §13.1.1 never lets
 * a weak tag match for If-Match), a half-quoted one (`"7`, `7"`) is a client bug, and `*` or a
 * list would accept a version the caller never saw. Each gets a 400 that says which.
 *
 * @example
 * IfMatchSchema.parse('"7"'); // 7
 * IfMatchSchema.safeParse('W/"7"').success; // false
 */
export const IfMatchSchema = z.pipe(
  z.string().check(
    z.refine((value) => !value.startsWith('W/'), {
      message: 'If-Match must be a strong tag: a weak one (W/"7") never matches a config version; send "7"',
      abort: true,
    }),
    z.refine((value) => value !== '*' && !value.includes(','), {
      message: 'If-Match must name one config version: * and lists are not accepted',
      abort: true,
    }),
    z.regex(/^(?:\d{1,15}|"\d{1,15}")$/, 'If-Match must be a config version, 7 or "7" as in the ETag'),
  ),
  z.transform((value) => Number(value.replace(/"/g, ''))),
);

/** `x-rollout-actor`: a label for the audit log when authenticated by token (`token:<label>`). */
export const ActorLabelSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'x-rollout-actor must be 1–64 chars of [A-Za-z0-9_.@-]'));

/** `GET /override?token=…`: the token of a signed override link. */
export const OverrideQuerySchema = z.strictObject({
  // v1 tokens are about 60 characters; v2 ones carry up to MAX_PINS_TEXT (1024) more.
  token: z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,1200}$/, 'not an override token')),
});

/** Every error body: a readable message, plus the validation issues for a 400. */
export const ErrorBodySchema = z.object({ error: z.string(), issues: z.optional(z.array(z.string())) });

/** The body of every accepted config write. */
/** The kill switches in force: the API's and the one set by hand in KV, read together. */
export const KillStateSchema = z.object({
  canary: z.boolean(),
  allFlags: z.boolean(),
  flags: z.array(z.string()),
  /** The kill switch text in force (API and hand-set together), or null when none. */
  raw: z.nullable(z.string()),
  /** Each source apart: `api` (set through this API), `hand` (KV `kill`, set by `wrangler kv key put`). */
  sources: z.object({ api: z.nullable(z.string()), hand: z.nullable(z.string()) }),
  /** Set when the hand kill cannot be read (too long, no known token): it then stops the canary. */
  handUnreadable: z.optional(z.string()),
  /**
   * Bypass mode (docs/KILL-SWITCH.md, "Bypass"): `active` when either source has it on; `api` set
   * through `PUT /bypass`, `hand` is KV `bypass` as it reads. Absent when neither source holds
   * anything (bypass off), and from a control plane one version back.
   */
  bypass: z.optional(
    z.object({
      active: z.boolean(),
      api: z.boolean(),
      hand: z.nullable(z.string()),
      handUnreadable: z.optional(z.string()),
    }),
  ),
});

/** The KV read replica: the version the control plane committed and the one it last wrote to KV. */
export const ReplicaSchema = z.object({
  committedVersion: z.int(),
  replicatedVersion: z.nullable(z.int()),
  /** True until KV holds the committed version (retried from an alarm). */
  lagging: z.boolean(),
  failedAttempts: z.int(),
  lastError: z.optional(z.string()),
  /** When KV was last read back by the control plane (ms). */
  checkedAt: z.optional(z.int()),
  /** When the committed version was committed (ms): "time since the commit". */
  committedAt: z.optional(z.int()),
});

/**
 * The body of every accepted write, kill switch writes included. `changed: false`: the write
 * would give visitors what they get now, so version and audit are unchanged. With `?dryRun=1`,
 * `dryRun: true` and the config that would be written; nothing changed.
 */
export const WriteResultSchema = z.object({
  version: z.int(),
  config: RolloutConfigSchema,
  changed: z.boolean(),
  kill: KillStateSchema,
  replica: ReplicaSchema,
  dryRun: z.optional(z.literal(true)),
  /** With dryRun: the current version (the write would make `version`). */
  currentVersion: z.optional(z.int()),
  /** With dryRun: what the write would move (as `POST /preview` answers it). */
  preview: z.optional(z.unknown()),
  /** Set when a kill switch set by hand stays in force whatever this write did. */
  warning: z.optional(z.string()),
});

/** `GET /state`: the control plane's truth, and the KV replica the splitter reads. */
export const StateBodySchema = z.object({
  /** The committed version; `If-Match` compares against it (also sent as `ETag`). */
  version: z.int(),
  state: RolloutStateSchema,
  percent: z.number(),
  config: RolloutConfigSchema,
  kill: KillStateSchema,
  /** What KV holds for the splitter: `kv`, `safe-default` (no config), `last-known-good` (invalid). */
  source: z.enum(['kv', 'last-known-good', 'safe-default']),
  /** The replica: what the control plane wrote, and the version KV holds now (null: none or invalid). */
  replica: z.extend(ReplicaSchema, {
    kvVersion: z.nullable(z.int()),
    /** The `kill:api` KV holds now (null: none or KV unreadable). */
    kvKill: z.optional(z.nullable(z.string())),
  }),
  /** The guard's latest verdict, or null when none (or none readable). */
  guard: z.nullable(GuardVerdictRecordSchema),
  /** Why the config in KV was rejected, when it was (the control plane's version still stands). */
  issues: z.optional(z.array(z.string())),
});

/** `GET /audit`: newest first; pass `cursor` back for the next page (null on the last). */
export const AuditPageSchema = z.object({
  entries: z.array(AuditEntrySchema),
  cursor: z.nullable(z.string()),
});

/** `POST /override-link`: the link, when it stops working, and what it pins. */
export const OverrideLinkSchema = z.object({
  url: z.string(),
  expiresAt: z.iso.datetime(),
  cohort: z.optional(z.enum(['stable', 'canary'])),
  /** Flag → variant pinned by the link (absent: none). */
  flags: z.optional(z.record(z.string(), z.string())),
  /** The audit entry that records the link's creation. */
  auditId: z.optional(z.string()),
});

/** `GET /health`: says nothing beyond being alive. */
export const HealthSchema = z.object({ ok: z.literal(true) });

/** `POST /events` answer: how many events and data points were recorded. */
export const EventsAcceptedSchema = z.strictObject({
  accepted: z.int().check(z.gte(0)),
  dataPoints: z.int().check(z.gte(0)),
});
