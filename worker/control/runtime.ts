import { parseSettings } from '../../src/config/settings';
import { consoleLogger, safeLogger, systemClock } from '../../src/ports';
import { kvConfigStore } from '../shared/kv-config-source';
import { metricsSinkForEnv } from '../shared/metrics-sinks';
import type { ControlDeps } from './control-deps';
import { controlPlaneFor } from './single-writer/control-plane';

/** Per-isolate deps, or the issues that make the control Worker's vars unusable. */
export type ControlRuntimeResult = { ok: true; deps: ControlDeps } | { ok: false; issues: string[] };

/**
 * Builds the control Worker's deps from its env, once per isolate.
 */
export function buildControlRuntime(env: ControlEnv): ControlRuntimeResult {
  const parsed = parseSettings(env as unknown as Record<string, unknown>);
  if (!parsed.ok) return parsed;
  const settings = parsed.settings;
  const logger = safeLogger(consoleLogger);
  const store = kvConfigStore(env.ROLLOUT, settings, systemClock, logger);
  const workerVersion = env.CF_VERSION_METADATA?.id ?? 'dev';
  return {
    ok: true,
    deps: {
      settings,
      kv: env.ROLLOUT,
      control: controlPlaneFor(env.CONTROL, settings, logger),
      store,
      clock: systemClock,
      logger,
      fetch: (input, init) => fetch(input, init),
      metrics: metricsSinkForEnv(
        env as { METRICS?: AnalyticsEngineDataset; METRICS_COLLECTOR_URL?: string },
        logger,
      ),
      workerVersion,
    },
  };
}
