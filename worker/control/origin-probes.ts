import type { Settings } from '../../src/config/settings';
import type { GuardDeps } from '../../src/guard/guard-ports';
import {
  judgeProbes,
  probeAbortReason,
  probeMessage,
  probeMetric,
  resolveProbeSettings,
  type ProbeAction,
  type ProbeResult,
  type ProbeSettings,
  type ProbeStreakStore,
} from '../../src/guard/origin-probes';
import { parseOrigin } from '../../src/proxy/origin-request-headers';
import type { Cohort } from '../../src/split/decide-visitor';
import type { MetricsSink } from '../../src/ports';
import { metricsSinkForEnv } from '../shared/metrics-sinks';

/** Where the probe streaks are kept between runs (a small JSON record). */

/** What a test may swap; production takes the Worker's own. */
export interface OriginProbeOptions {
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  sink?: MetricsSink;
  store?: ProbeStreakStore;
  /** Keeps the local collector's posts alive past the run (the cron run's `ctx.waitUntil`). */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** What one probe run did. */
export type ProbeRunResult =
  { ran: false; why: string } | { ran: true; results: ProbeResult[]; actions: ProbeAction['type'][] };

const COHORTS: readonly Cohort[] = ['stable', 'canary'];

/**
 * One minute's uptime probes, run by the scheduled handler before the guard: GET the configured
 * health path on both origins (under each origin's path prefix, with a timeout), record each
 * probe as a data point (route `probe`), and act on the streaks ({@link judgeProbes}): a live
 * canary that failed `failureThreshold` probes in a row is aborted through the guard's rollout
 * commands (audited as `guard`, the same path as the admin API) with a webhook notice; a stable
 * origin that did is announced, never answered with an abort. Off when the config has no
 * `probes` section. Never throws.
 *
 * @example
 * const deps = buildGuardDeps(env, settings, guardSettings, ports);
 * await probeOrigins(deps, env, settings);
 * await runGuard(deps);
 */
export async function probeOrigins(
  deps: GuardDeps,
  env: ControlEnv,
  settings: Settings,
  options: OriginProbeOptions = {},
): Promise<ProbeRunResult> {
  try {
    const snapshot = await deps.readConfig();
    if (snapshot.source === 'control-unreachable')
      return { ran: false, why: 'the control plane is unreachable; probes need the committed config' };
    const probe = resolveProbeSettings(snapshot.config.probes);
    if (!probe) return { ran: false, why: 'no probes section in the config' };
    if (snapshot.source !== 'kv')
      return { ran: false, why: `config comes from the ${snapshot.source}; probes need the stored config` };
    const { config } = snapshot;
    const origins: Record<Cohort, string> = {
      stable: config.origins?.stable ?? settings.STABLE_ORIGIN,
      canary: config.origins?.canary ?? settings.CANARY_ORIGIN,
    };
    const fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    const store = options.store ?? deps.probeStreaks;
    const [results, previous] = await Promise.all([
      Promise.all(COHORTS.map((cohort) => probeOne(cohort, origins[cohort], probe, fetchFn))),
      store.read(),
    ]);

    // The splitter's sink choice: the local collector under npm start, Analytics Engine otherwise.
    const sink =
      options.sink ??
      metricsSinkForEnv(env, deps.logger, options.waitUntil ? { waitUntil: options.waitUntil } : {});
    const workerVersion = env.CF_VERSION_METADATA?.id ?? 'dev';
    for (const result of results)
      sink.record(probeMetric(result, { configVersion: config.version, workerVersion }));

    const { rollout } = config;
    const canaryLive =
      ['ramping', 'paused', 'promoted'].includes(rollout.state) &&
      rollout.percent > 0 &&
      !snapshot.kill.canary;
    const at = new Date(deps.clock.now()).toISOString();
    const judged = judgeProbes(previous, results, {
      failureThreshold: probe.failureThreshold,
      canaryLive,
      configVersion: config.version,
      at,
    });
    for (const action of judged.actions) await act(deps, action, probe.path, rollout.percent);
    if (JSON.stringify(judged.streaks) !== JSON.stringify(previous)) await store.write(judged.streaks);

    for (const result of results.filter((r) => !r.ok))
      deps.logger.warn('origin probe failed', {
        cohort: result.cohort,
        error: result.error,
        path: probe.path,
      });
    return { ran: true, results, actions: judged.actions.map((action) => action.type) };
  } catch (error) {
    deps.logger.error('origin probes failed', { error: String((error as Error)?.stack ?? error) });
    deps.reporter.captureException(error, { tags: { component: 'origin-probes' } });
    return { ran: false, why: 'the probe run failed' };
  }
}

/** One GET of an origin's health path; a failure is a result, never a throw. */
async function probeOne(
  cohort: Cohort,
  originBase: string,
  probe: ProbeSettings,
  fetchFn: NonNullable<OriginProbeOptions['fetch']>,
): Promise<ProbeResult> {
  const { origin, prefix } = parseOrigin(originBase);
  const started = Date.now();
  const signal = AbortSignal.timeout(probe.timeoutMs);
  try {
    const response = await fetchFn(`${origin}${prefix}${probe.path}`, {
      method: 'GET',
      headers: { 'user-agent': 'edge-rollout-probe', 'cache-control': 'no-cache' },
      redirect: 'manual',
      signal,
    });
    // The body is not needed; cancelling it releases the connection.
    await response.body?.cancel();
    const ok = response.status === probe.expectedStatus;
    return {
      cohort,
      ok,
      status: response.status,
      ms: Date.now() - started,
      ...(ok ? {} : { error: `status ${response.status} (expected ${probe.expectedStatus})` }),
    };
  } catch (error) {
    const error_ = signal.aborted
      ? `timeout after ${probe.timeoutMs} ms`
      : String((error as Error)?.message ?? error).slice(0, 200);
    return { cohort, ok: false, status: 0, ms: Date.now() - started, error: error_ };
  }
}

async function act(deps: GuardDeps, action: ProbeAction, path: string, percent: number): Promise<void> {
  const notify = (event: Parameters<typeof probeMessage>[0]) =>
    deps.notifier.notify(probeMessage(event, path, deps.environment));
  const context = { tags: { component: 'origin-probes' }, extra: { action } };
  switch (action.type) {
    case 'abort-canary': {
      const result = await deps.commands.abort(probeAbortReason(action, path));
      if (result.ok) {
        deps.logger.warn('guard aborted the canary: health probes failed', {
          version: result.version,
          ...action,
        });
        deps.reporter.captureMessage(probeAbortReason(action, path), 'error', context);
        await notify({ type: 'canary-aborted', version: result.version, percent, action });
      } else if (action.announce) {
        const error = `${result.status} ${result.error}`;
        deps.logger.error('guard could not abort the canary after failed health probes', { error });
        deps.reporter.captureMessage(
          `edge-rollout guard could not abort the canary: ${error}`,
          'error',
          context,
        );
        await notify({ type: 'canary-abort-failed', error, action });
      } else {
        deps.logger.warn('guard abort retry failed', { status: result.status, error: result.error });
      }
      return;
    }
    case 'stable-down':
      deps.logger.error('the stable origin fails its health probes', { ...action });
      deps.reporter.captureMessage(
        `edge-rollout: the stable origin fails its health probes on ${path}`,
        'error',
        context,
      );
      await notify({ type: 'stable-down', action });
      return;
    case 'stable-up':
      deps.logger.info('the stable origin answers its health probes again', { ...action });
      await notify({ type: 'stable-up', action });
      return;
  }
}
