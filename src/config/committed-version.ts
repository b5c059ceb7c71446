import * as z from 'zod/mini';
import { MAX_KILL_TEXT, RolloutConfigSchema } from './config-schema';
import { parseJsonText, validate } from './parse-config';

/**
 * A committed version as it travels from the control plane to the edge: the config, the API
 * kill switch and the (epoch, version) that orders them. One value, so an isolate can never hold
 * a killed v3 next to a stale, empty `kill:api`: the kill is part of the version that carries it.
 *
 * The epoch is the control plane's creation time (ms since 1970). A control plane created again
 * starts from version 0 under a later epoch, so isolates order by epoch first, then version,
 * and a restarted control plane is not ignored for ever.
 */

/** KV key of the committed value (config + API kill + epoch), written by the control plane's replica. */
export const COMMITTED_KEY = 'committed';

/** Where a version sits in the order isolates follow. `epoch` is undefined for a legacy value. */
export interface Head {
  epoch: number | undefined;
  version: number;
}

/**
 * Orders two heads: negative when `a` is older, 0 when the same, positive when newer. Epochs
 * compare first; a value without an epoch (KV `config` written by a control plane one version
 * back) compares by version alone.
 *
 * @example
 * compareHeads({ epoch: 2, version: 0 }, { epoch: 1, version: 40 }); // > 0: a restarted control plane wins
 * compareHeads({ epoch: 1, version: 3 }, { epoch: 1, version: 4 }); // < 0
 */
export function compareHeads(a: Head, b: Head): number {
  if (a.epoch !== undefined && b.epoch !== undefined && a.epoch !== b.epoch) return a.epoch - b.epoch;
  return a.version - b.version;
}

const EpochSchema = z.int().check(z.gte(0));
const VersionSchema = z.int().check(z.gte(0));
const KillTextSchema = z.nullable(z.string().check(z.maxLength(MAX_KILL_TEXT)));

/**
 * The control plane's head: what an edge location compares with the version it serves, every
 * few seconds. `kill` is the API kill switch of that version; `committedAt` is when it was
 * committed (ms), for "time since the commit".
 */
export const HeadMessageSchema = z.object({
  epoch: EpochSchema,
  version: VersionSchema,
  kill: KillTextSchema,
  committedAt: z.int(),
});

/** The head of a committed version (see {@link HeadMessageSchema}). */
export type HeadMessage = z.infer<typeof HeadMessageSchema>;

/** A whole committed version: the head plus its config (whose `version` must be the head's). */
export const CommittedValueSchema = z
  .extend(HeadMessageSchema, { config: RolloutConfigSchema })
  .check(z.refine((value) => value.config.version === value.version, 'config.version must equal version'));

/** A validated committed version. */
export type CommittedValue = z.infer<typeof CommittedValueSchema>;

/**
 * Reads a committed value from KV text or a decoded JSON body; never throws.
 *
 * @example
 * parseCommittedValue('{"epoch":1,"version":0,"kill":null,"committedAt":0,"config":{…}}'); // { ok: true, value }
 */
export function parseCommittedValue(
  raw: unknown,
): { ok: true; value: CommittedValue } | { ok: false; issues: string[] } {
  return typeof raw === 'string'
    ? parseJsonText(raw, CommittedValueSchema, 'committed')
    : validate(raw, CommittedValueSchema);
}

/** Reads a head message from a decoded JSON body; undefined when it is not one. */
export function parseHeadMessage(raw: unknown): HeadMessage | undefined {
  const parsed = HeadMessageSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
