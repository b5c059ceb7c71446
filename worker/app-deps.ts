import type { Cohort } from '../src/cohort/assign-cohort';
import type { Settings } from '../src/env/settings-schema';
import type { Clock } from '../src/ports/clock';
import type { ConfigStore } from '../src/ports/config-store';
import type { ErrorReporter } from '../src/ports/error-reporter';
import type { Logger } from '../src/ports/logger';
import type { MetricsSink } from '../src/ports/metrics-sink';
import type { FetchFunction } from '../src/proxy/fetch-upstream';

/** Everything the Hono app needs, built once per isolate (tests build their own). */
export interface AppDeps {
  settings: Settings;
  /** The ROLLOUT namespace: config, kill switch, history and audit log (admin writes). */
  kv: KVNamespace;
  store: ConfigStore;
  clock: Clock;
  logger: Logger;
  fetch: FetchFunction;
  metrics: MetricsSink;
  /** Creates the per-request error reporter (Sentry is request-scoped). */
  errorReporterFor(request: Request, waitUntil: (promise: Promise<unknown>) => void): ErrorReporter;
  workerVersion: string;
  /** A QA override cohort pinned by a signed cookie, if the request carries a valid one. */
  readOverride(request: Request): Promise<Cohort | undefined>;
}
