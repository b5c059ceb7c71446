import * as z from 'zod/mini';

/**
 * The KV value under `guard:incident`: the last breach the guard acted on. It makes the guard
 * idempotent: a config read that lags behind the abort (KV propagates in up to ~60 s) must not
 * cause a second abort or a second round of notifications.
 */
export const GuardIncidentSchema = z.object({
  openedAt: z.iso.datetime(),
  /** The config version the breach was judged on. */
  configVersion: z.int(),
  percent: z.number(),
  reasons: z.array(z.string()),
  /** The version the abort wrote; absent while the abort has not landed. */
  abortedVersion: z.optional(z.int()),
});

/** A recorded incident. */
export type GuardIncident = z.infer<typeof GuardIncidentSchema>;

/**
 * Whether a breach seen on config `version` belongs to an incident already recorded: true until
 * ops write a config newer than the one the guard aborted (or tried to abort).
 *
 * @example
 * if (incident && isSameIncident(incident, config.version)) return; // already handled
 */
export function isSameIncident(incident: GuardIncident, version: number): boolean {
  return version <= (incident.abortedVersion ?? incident.configVersion);
}
