import type { Settings } from '../../src/config/settings';
import type { Clock, ConfigStore, ErrorReporter, Logger, MetricsSink } from '../../src/ports';
import type { FetchFunction } from '../../src/proxy/proxy-to-origin';
import type { VerifiedOverride } from '../../src/admin/override-token';

/**
 * What the edge's handlers need, built once per isolate by runtime.ts (tests build their own).
 * Each handler takes the slice it uses (`Pick<EdgeDeps, …>`); the composer (edge-app.ts) adds the
 * way to the control plane.
 */
export interface EdgeDeps {
  settings: Settings;
  store: ConfigStore;
  clock: Clock;
  logger: Logger;
  fetch: FetchFunction;
  metrics: MetricsSink;
  /** Creates the per-request error reporter (Sentry is request-scoped). */
  errorReporterFor(request: Request, waitUntil: (promise: Promise<unknown>) => void): ErrorReporter;
  workerVersion: string;
  /**
   * The QA override (cohort, flag pins, expiry) of a signed cookie, if the request carries a
   * valid one. Without the cookie the answer is synchronous (the splitter then awaits nothing).
   */
  readOverride(request: Request): VerifiedOverride | undefined | Promise<VerifiedOverride | undefined>;
}

/** Keeps work alive after the response has been handed back (the request's `waitUntil`). */
export type WaitUntil = (promise: Promise<unknown>) => void;
