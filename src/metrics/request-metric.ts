import type { Cohort } from '../cohort/assign-cohort';

/** How a proxied request ended. */
export type RequestOutcome = 'ok' | 'error' | 'failover';

/**
 * One proxied request, as the splitter saw it. The Analytics Engine encoding of this record
 * lives in data-point-schema.ts, the single source for dashboards, alerts and the guard.
 */
export interface RequestMetric {
  /** The cohort that finally served the request (stable after a failover). */
  cohort: Cohort;
  /** The cohort first chosen for the visitor. */
  assignedCohort: Cohort;
  configVersion: number;
  workerVersion: string;
  method: string;
  /** A business route name, or `other`. */
  route: string;
  /** The status sent to the client (0 when none). */
  status: number;
  outcome: RequestOutcome;
  /** Whether a business route's request succeeded (by its success rule); undefined elsewhere. */
  routeSuccess?: boolean;
  colo: string;
  country: string;
  totalMs: number;
  upstreamMs: number;
  failover: boolean;
  /** How many occurrences this record stands for (a reported event's `count`); 1 when absent. */
  occurrences?: number;
}
