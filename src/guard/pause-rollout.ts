import type { RolloutConfig } from '../config/config-schema';
import type { GuardAction, GuardVerdictRecord, JudgedNumbers } from './analyze-canary';
import type { GuardDeps } from './guard-ports';
import { guardMessage } from './guard-notifier';
import type { MetricRow } from './verdict-table';

/** Why the guard holds a rollout: its split does not match its percent, or it cannot judge. */
export type HoldReason =
  { kind: 'srm'; message: string } | { kind: 'inconclusive'; runs: number; reason: string };

/** What the guard judged, for the notice. */
interface Judged {
  numbers: JudgedNumbers;
  table?: readonly MetricRow[];
}

/**
 * Whether the step schedule is live: only then has a pause anything to stop. Without a schedule
 * nothing advances by itself, so a pause would only page ops.
 */
export function scheduleIsLive(config: RolloutConfig): boolean {
  const { rollout } = config;
  return rollout.state === 'ramping' && (rollout.steps?.some((step) => step > rollout.percent) ?? false);
}

/**
 * Pauses a ramping rollout whose schedule cannot be trusted to advance (a sample-ratio mismatch,
 * or inconclusive verdicts past the limit), through the `pause` command with the version judged as
 * `If-Match`. The pause holds the percent: the canary keeps serving and stays guarded (a breach
 * still aborts it). The webhook and the error reporter hear about a pause that lands, and about a
 * failed one once per incident: while the previous run's pause failed on the same config version,
 * the retry is only logged (`previous`, the last stored verdict, tells).
 */
export async function pauseRollout(
  deps: GuardDeps,
  config: RolloutConfig,
  hold: HoldReason,
  judged: Judged,
  previous?: GuardVerdictRecord,
): Promise<GuardAction> {
  const why =
    hold.kind === 'srm'
      ? `sample ratio mismatch: ${hold.message}`
      : `${hold.runs} inconclusive verdicts in a row: ${hold.reason}`;
  const percent = config.rollout.percent;
  const result = await deps.commands.pause({ ifMatch: config.version, reason: `guard: ${why}` });
  const context = { tags: { component: 'guard', hold: hold.kind }, extra: { why } };
  if (!result.ok) {
    const error = `${result.status} ${result.error}`;
    const announced = previous?.action.type === 'pause-failed' && previous.configVersion === config.version;
    if (announced) {
      deps.logger.warn('guard pause retry failed', { error, why });
      return { type: 'pause-failed', error, why };
    }
    deps.logger.error('guard could not pause the rollout', { error, why });
    deps.reporter.captureMessage(
      `edge-rollout guard could not pause the rollout: ${error}`,
      'error',
      context,
    );
    await deps.notifier.notify(
      guardMessage({ type: 'pause-failed', percent, error, why, ...judged }, deps.environment),
    );
    return { type: 'pause-failed', error, why };
  }
  deps.logger.warn('guard paused the rollout', { version: result.version, why });
  deps.reporter.captureMessage(`edge-rollout guard paused the rollout: ${why}`, 'warning', context);
  await deps.notifier.notify(
    guardMessage({ type: 'paused', percent, version: result.version, why, ...judged }, deps.environment),
  );
  return { type: 'paused', version: result.version, why };
}

/**
 * Reports a sample-ratio mismatch that has nothing to pause (no live schedule): once when it
 * appears, to the webhook and the error reporter, not every minute it lasts.
 */
export async function reportMismatch(
  deps: GuardDeps,
  config: RolloutConfig,
  message: string,
  previous: GuardVerdictRecord | undefined,
  judged: Judged,
): Promise<GuardAction> {
  const why = `sample ratio mismatch: ${message}`;
  if (previous?.srm?.class !== 'fail') {
    deps.logger.warn('guard sees a sample ratio mismatch', { message });
    deps.reporter.captureMessage(`edge-rollout guard: ${why}`, 'warning', {
      tags: { component: 'guard', hold: 'srm' },
      extra: { why },
    });
    await deps.notifier.notify(
      guardMessage({ type: 'srm', percent: config.rollout.percent, why, ...judged }, deps.environment),
    );
  }
  return { type: 'none', why: `${why}; no step schedule to pause` };
}
