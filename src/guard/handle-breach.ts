import type { RolloutConfig } from '../config/config-schema';
import type { GuardDeps } from './guard-deps';
import { guardMessage } from './guard-message';
import { isSameIncident, type GuardIncident } from './incident';
import type { GuardAction, Verdict } from './verdict';

type Breach = Extract<Verdict, { status: 'breach' }>;

/**
 * Acts on a breach: aborts the canary through the rollout commands, then notifies the webhook
 * and the error reporter, once per incident. A breach already handled (the config has not moved
 * past the version the guard aborted) does nothing. A paused rollout still serves its canary,
 * so a breach aborts it too: pausing holds the ramp, it does not switch the protection off.
 *
 * @example
 * const action = await handleBreach(deps, config, verdict);
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
