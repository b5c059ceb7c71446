import * as z from 'zod/mini';
import type { RolloutConfig } from '../config/config-schema';
import type { GuardAction, Verdict } from './analyze-canary';
import type { GuardDeps } from './guard-ports';
import { guardMessage } from './guard-notifier';

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

type Breach = Extract<Verdict, { status: 'breach' }>;

/**
 * Acts on a breach: aborts the canary through the rollout commands, then notifies the webhook
 * and the error reporter, once per incident. A breach already handled (the config has not moved
 * past the version the guard aborted) does nothing. A paused rollout still serves its canary,
 * so a breach aborts it too: pausing holds the ramp, it does not switch the protection off.
 */
export async function handleBreach(
  deps: GuardDeps,
  config: RolloutConfig,
  verdict: Breach,
): Promise<GuardAction> {
  const known = await deps.state.readIncident();
  const same = known !== undefined && isSameIncident(known, config.version);
  if (same && known.abortedVersion !== undefined)
    return { type: 'none', why: `incident already handled: aborted at config v${known.abortedVersion}` };

  const messages = verdict.reasons.map((reason) => reason.message);
  const incident: GuardIncident = same
    ? known
    : {
        openedAt: new Date(deps.clock.now()).toISOString(),
        configVersion: config.version,
        percent: config.rollout.percent,
        reasons: messages,
      };
  const result = await deps.commands.abort(`guard: ${messages.join('; ')}`);
  const event = { percent: config.rollout.percent, reasons: verdict.reasons, numbers: verdict.numbers };
  const context = { tags: { component: 'guard' }, extra: { reasons: messages, numbers: verdict.numbers } };

  if (result.ok) {
    await deps.state.writeIncident({ ...incident, abortedVersion: result.version });
    deps.logger.warn('guard aborted the canary', { version: result.version, reasons: messages });
    deps.reporter.captureMessage(
      `edge-rollout guard aborted the canary: ${messages.join('; ')}`,
      'error',
      context,
    );
    await deps.notifier.notify(
      guardMessage({ type: 'aborted', version: result.version, ...event }, deps.environment),
    );
    return { type: 'aborted', version: result.version };
  }
  const error = `${result.status} ${result.error}`;
  if (same) {
    // Already announced when this incident opened; retry quietly every run.
    deps.logger.warn('guard abort retry failed', { error });
  } else {
    await deps.state.writeIncident(incident);
    deps.logger.error('guard could not abort the canary', { error, reasons: messages });
    deps.reporter.captureMessage(`edge-rollout guard could not abort the canary: ${error}`, 'error', context);
    await deps.notifier.notify(guardMessage({ type: 'abort-failed', error, ...event }, deps.environment));
  }
  return { type: 'abort-failed', error };
}
