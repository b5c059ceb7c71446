import * as z from 'zod/mini';
import { GuardVerdictRecordSchema } from '../guard/verdict';
import { RolloutConfigSchema } from '../config/config-schema';
import { RolloutStateSchema } from '../config/rollout-state';
import { AuditEntrySchema } from './audit-entry';

/** Every error body: a readable message, plus the validation issues for a 400. */
export const ErrorBodySchema = z.object({ error: z.string(), issues: z.optional(z.array(z.string())) });

/** The body of every accepted config write. */
export const WriteResultSchema = z.object({ version: z.int(), config: RolloutConfigSchema });

/** The kill switch as GET /state and the kill routes report it. */
export const KillStateSchema = z.object({
  canary: z.boolean(),
  allFlags: z.boolean(),
  flags: z.array(z.string()),
  /** The KV value as stored, or null when the key is absent. */
  raw: z.nullable(z.string()),
});

/** `PUT /kill` and `DELETE /kill`: the (unchanged) config and the kill switch now in force. */
export const KillResultSchema = z.object({
  version: z.int(),
  config: RolloutConfigSchema,
  kill: KillStateSchema,
});

/** `GET /state`, read from KV (not the isolate cache). */
export const StateBodySchema = z.object({
  version: z.int(),
  state: RolloutStateSchema,
  percent: z.number(),
  config: RolloutConfigSchema,
  kill: KillStateSchema,
  /** `kv`; `safe-default` when KV holds no config; `last-known-good` when the KV value is invalid. */
  source: z.enum(['kv', 'last-known-good', 'safe-default']),
  /** The guard's latest verdict (KV key `guard:verdict`), or null when none (or none readable). */
  guard: z.nullable(GuardVerdictRecordSchema),
  /** Why the config in KV was rejected, when it was. */
  issues: z.optional(z.array(z.string())),
});

/** `GET /audit`: newest first; pass `cursor` back for the next page (null on the last). */
export const AuditPageSchema = z.object({
  entries: z.array(AuditEntrySchema),
  cursor: z.nullable(z.string()),
});

/** `POST /override-link`. */
export const OverrideLinkSchema = z.object({ url: z.string(), expiresAt: z.iso.datetime() });

/** `GET /health`: says nothing beyond being alive. */
export const HealthSchema = z.object({ ok: z.literal(true) });

/** `POST /events` answer: how many events and data points were recorded. */
export const EventsAcceptedSchema = z.strictObject({
  accepted: z.int().check(z.gte(0)),
  dataPoints: z.int().check(z.gte(0)),
});
