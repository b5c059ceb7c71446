import { overrideReader } from '../../src/admin/override-token';
import { parseSettings } from '../../src/config/settings';
import { consoleLogger, safeLogger, systemClock } from '../../src/ports';
import { HEAD_REFRESH } from '../../src/propagation/head-decisions';
import { HeadRefresher } from '../../src/propagation/head-refresher';
import { kvConfigStore } from '../shared/kv-config-source';
import { metricsSinkForEnv } from '../shared/metrics-sinks';
import { controlForward } from './control-forward';
import { errorRelay } from './error-relay';
import type { EdgeAppDeps } from './edge-app';
import { cacheApiHeads, planeHeads } from './head-client';

/**
 * Per-isolate deps and the head refresh (its `keepAlive` is set per request by the entry), or the
 * issues that make the edge's vars unusable.
 */
export type RuntimeResult =
  { ok: true; deps: EdgeAppDeps; headRefresh: HeadRefresher } | { ok: false; issues: string[] };

/**
 * Builds the edge's deps from its env. Called once per isolate: the config cache and the parsed
 * settings live as long as the isolate does.
 */
export function buildRuntime(
  env: EdgeEnv,
  /** Tests only: another location's cache (a second isolate that shares nothing with the first). */
  options: { locationCache?: Cache } = {},
): RuntimeResult {
  const vars = env as unknown as Record<string, unknown>;
  const parsed = parseSettings(vars);
  if (!parsed.ok) return parsed;
  const settings = parsed.settings;
  const logger = safeLogger(consoleLogger);
  const kvStore = kvConfigStore(env.ROLLOUT, settings, systemClock, logger);
  const workerVersion = env.CF_VERSION_METADATA?.id ?? 'dev';
  const binding = env.CONTROL_PLANE as Fetcher | undefined;
  const isDown = faultSwitch(vars.CONTROL_FAULT_URL);
  // The committed head every few seconds per location, shared through the Cache API; the KV
  // replica stays underneath it as the fallback (docs/KILL-SWITCH.md, "How fast it acts").
  const headRefresh = new HeadRefresher({
    plane: planeHeads({ binding, workerVersion, isDown }),
    cache: cacheApiHeads(
      options.locationCache ?? (typeof caches === 'undefined' ? undefined : caches.default),
      Math.ceil(HEAD_REFRESH.intervalMs / 1000),
    ),
    store: kvStore,
    clock: systemClock,
    logger,
  });
  const deps: EdgeAppDeps = {
    settings,
    store: headRefresh.wrap(),
    clock: systemClock,
    logger,
    fetch: (input, init) => fetch(input, init),
    metrics: metricsSinkForEnv(env, logger),
    // Reports go to the control Worker, which sends them to Sentry: no Sentry SDK in the edge.
    errorReporterFor: errorRelay({ binding, workerVersion, logger }),
    workerVersion,
    readOverride: overrideReader(settings.OVERRIDE_SECRET, systemClock),
    forwardToControl: controlForward({
      binding,
      workerVersion,
      logger,
      isDown,
      // A write through this isolate: learn its version now rather than at the next interval.
      afterWrite: () => void headRefresh.checkNow(),
    }),
    cockpitHost: typeof vars.COCKPIT_HOST === 'string' && vars.COCKPIT_HOST ? vars.COCKPIT_HOST : undefined,
  };
  return { ok: true, deps, headRefresh };
}

/**
 * Local tests only: `CONTROL_FAULT_URL` names a loopback switch that answers `down` while the
 * control plane must look unreachable from the edge. Anything else (unset, not loopback) is off.
 */
function faultSwitch(url: unknown): (() => Promise<boolean>) | undefined {
  if (typeof url !== 'string' || !/^http:\/\/127\.0\.0\.1:\d{1,5}\/?$/.test(url)) return undefined;
  return async () => {
    try {
      return (await (await fetch(url)).text()).trim() === 'down';
    } catch {
      return false;
    }
  };
}
