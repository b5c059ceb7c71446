import type { Thresholds } from '../../src/guard/guard-settings';
import {
  COHORT_AGGREGATES,
  percentOf,
  weightedCount,
  WHERE,
  windowAlertQuery,
  type SeriesValue,
} from '../../src/metrics/queries';
import {
  altinityTarget,
  DATASETS,
  DATASOURCE_TYPE,
  DATASOURCE_UID,
  GRAFANA_FOLDER,
  type Environment,
} from './grafana-datasource-and-panels';

/** One Grafana alert rule, as the alerting provisioning format (apiVersion 1) spells it. */
export interface AlertRule {
  uid: string;
  title: string;
  condition: 'C';
  /** The SQL query (A), its reduction to the last value (B) and the threshold (C). */
  data: unknown[];
  noDataState: 'OK';
  execErrState: 'Error';
  for: string;
  annotations: { summary: string; description: string };
  labels: Record<string, string>;
  isPaused: false;
}

/** A provisioning file: one rule group evaluated every minute. */
export interface AlertRuleFile {
  apiVersion: 1;
  groups: { orgId: 1; name: string; folder: string; interval: string; rules: AlertRule[] }[];
}

/** What a rule watches: a per-cohort value over the window, and when it breaches. */
interface RuleSpec {
  uid: string;
  title: string;
  summary: string;
  description: string;
  value: SeriesValue;
  support: SeriesValue & { minimum: number };
  comparison: 'gt' | 'lt';
  threshold: number;
  severity: 'critical' | 'warning';
  /** Rows the rule reads (all rows when absent). */
  where?: readonly string[];
}

// Outcome rates (email delivery, uploads) need this many outcomes in the window to be judged:
// the guard's own minimum when the thresholds declare one, so alerts and guard agree.
function minOutcomes(thresholds: Thresholds): number {
  return 'minOutcomeSamples' in thresholds ? Number(thresholds.minOutcomeSamples) : 10;
}

// Production keeps the names it always had; another environment's rules carry its name, so
// both can be provisioned into one Grafana (uids are global, titles unique per folder).
const idFor = (environment: Environment, id: string) =>
  environment === 'production' ? id : id.replace(/^edge-rollout-/, `edge-rollout-${environment}-`);
const titleFor = (environment: Environment, title: string) =>
  environment === 'production' ? title : `${environment}: ${title}`;

function rule(spec: RuleSpec, windowMinutes: number, environment: Environment): AlertRule {
  const sql = windowAlertQuery({
    dataset: DATASETS[environment],
    value: spec.value,
    support: spec.support,
    ...(spec.where ? { where: spec.where } : {}),
  });
  return {
    uid: idFor(environment, spec.uid),
    title: titleFor(environment, spec.title),
    condition: 'C',
    data: [
      {
        refId: 'A',
        relativeTimeRange: { from: windowMinutes * 60, to: 0 },
        datasourceUid: DATASOURCE_UID,
        model: altinityTarget('A', sql, { type: DATASOURCE_TYPE, uid: DATASOURCE_UID }),
      },
      {
        refId: 'B',
        datasourceUid: '__expr__',
        model: { refId: 'B', type: 'reduce', expression: 'A', reducer: 'last', settings: { mode: 'dropNN' } },
      },
      {
        refId: 'C',
        datasourceUid: '__expr__',
        model: {
          refId: 'C',
          type: 'threshold',
          expression: 'B',
          conditions: [{ evaluator: { type: spec.comparison, params: [spec.threshold] } }],
        },
      },
    ],
    // No data means no traffic in the window: the guard calls that inconclusive, and so do we.
    noDataState: 'OK',
    execErrState: 'Error',
    // The query already spans the whole window, so a breach fires at once, as the guard acts.
    for: '0s',
    annotations: { summary: spec.summary, description: spec.description },
    labels: { service: 'edge-rollout', environment, severity: spec.severity },
    isPaused: false,
  };
}

function file(name: string, rules: AlertRule[], environment: Environment): AlertRuleFile {
  return {
    apiVersion: 1,
    groups: [{ orgId: 1, name: idFor(environment, name), folder: GRAFANA_FOLDER, interval: '1m', rules }],
  };
}

const requestsSupport = (thresholds: Thresholds) => ({
  expression: COHORT_AGGREGATES.requests,
  alias: 'requests',
  minimum: thresholds.minRequests,
});

/**
 * Error rate above the launch threshold over the guard's window, per assigned cohort.
 */
export function errorRateAlerts(
  thresholds: Thresholds,
  environment: Environment = 'production',
): AlertRuleFile {
  const window = thresholds.errorWindowMinutes;
  return file(
    'edge-rollout-errors',
    [
      rule(
        {
          uid: 'edge-rollout-error-rate',
          title: `Error rate above ${thresholds.maxErrorRatePercent} % (${window} min)`,
          summary: `{{ $labels.cohort }} error rate is above ${thresholds.maxErrorRatePercent} % over ${window} min`,
          description:
            'Share of requests that got a 5xx, no response, or (canary) a failover to stable. On the canary this is what the guard aborts on; see docs/ROLLBACK-PROCEDURE.md.',
          value: {
            expression: percentOf(COHORT_AGGREGATES.errors, COHORT_AGGREGATES.requests),
            alias: 'error_rate_percent',
          },
          support: requestsSupport(thresholds),
          comparison: 'gt',
          threshold: thresholds.maxErrorRatePercent,
          severity: 'critical',
        },
        window,
        environment,
      ),
    ],
    environment,
  );
}

/**
 * p95 latency above the launch threshold over the guard's window, per assigned cohort.
 */
export function performanceAlerts(
  thresholds: Thresholds,
  environment: Environment = 'production',
): AlertRuleFile {
  const window = thresholds.errorWindowMinutes;
  return file(
    'edge-rollout-performance',
    [
      rule(
        {
          uid: 'edge-rollout-p95',
          title: `p95 latency above ${thresholds.maxP95Ms} ms (${window} min)`,
          summary: `{{ $labels.cohort }} p95 latency is above ${thresholds.maxP95Ms} ms over ${window} min`,
          description:
            'p95 of total request time, weighted by sampling. The guard aborts the canary on this.',
          value: { expression: COHORT_AGGREGATES.p95Ms, alias: 'p95_ms' },
          support: requestsSupport(thresholds),
          comparison: 'gt',
          threshold: thresholds.maxP95Ms,
          severity: 'critical',
        },
        window,
        environment,
      ),
    ],
    environment,
  );
}

/**
 * Email delivery below, and upload failures above, the launch thresholds, per assigned cohort.
 */
export function businessAlerts(
  thresholds: Thresholds,
  environment: Environment = 'production',
): AlertRuleFile {
  const window = thresholds.errorWindowMinutes;
  const emails = `(${COHORT_AGGREGATES.emailDelivered} + ${COHORT_AGGREGATES.emailFailed})`;
  const uploads = `(${COHORT_AGGREGATES.uploadsOk} + ${COHORT_AGGREGATES.uploadsFailed})`;
  return file(
    'edge-rollout-business',
    [
      rule(
        {
          uid: 'edge-rollout-email-delivery',
          title: `Email delivery below ${thresholds.minEmailDeliveryPercent} % (${window} min)`,
          summary: `{{ $labels.cohort }} email delivery is below ${thresholds.minEmailDeliveryPercent} % over ${window} min`,
          description:
            'Delivered emails as a share of the delivery outcomes the mail provider reported through POST /__rollout/events.',
          value: {
            expression: percentOf(COHORT_AGGREGATES.emailDelivered, emails),
            alias: 'delivery_percent',
          },
          support: { expression: emails, alias: 'email_outcomes', minimum: minOutcomes(thresholds) },
          comparison: 'lt',
          threshold: thresholds.minEmailDeliveryPercent,
          severity: 'critical',
        },
        window,
        environment,
      ),
      rule(
        {
          uid: 'edge-rollout-upload-failures',
          title: `File upload failures above ${thresholds.maxUploadFailurePercent} % (${window} min)`,
          summary: `{{ $labels.cohort }} upload failures are above ${thresholds.maxUploadFailurePercent} % over ${window} min`,
          description:
            'Failed uploads (the file_upload route and reported upload outcomes) as a share of all uploads.',
          value: {
            expression: percentOf(COHORT_AGGREGATES.uploadsFailed, uploads),
            alias: 'upload_failure_percent',
          },
          support: { expression: uploads, alias: 'uploads', minimum: minOutcomes(thresholds) },
          comparison: 'gt',
          threshold: thresholds.maxUploadFailurePercent,
          severity: 'critical',
        },
        window,
        environment,
      ),
    ],
    environment,
  );
}

/** The window of the origin-down rule: long enough for three probes whatever the ingestion lag. */
const UPTIME_WINDOW_MINUTES = 5;

/**
 * An origin whose every health probe failed over the window (at least three probes: the guard's
 * default streak), per origin. On the canary the guard aborts on the same streak; on stable it
 * only notifies, and so does this rule.
 */
export function uptimeAlerts(environment: Environment = 'production'): AlertRuleFile {
  return file(
    'edge-rollout-uptime',
    [
      rule(
        {
          uid: 'edge-rollout-origin-down',
          title: `Origin down: every health probe failed (${UPTIME_WINDOW_MINUTES} min)`,
          summary: `the {{ $labels.cohort }} origin failed every health probe over ${UPTIME_WINDOW_MINUTES} min`,
          description:
            "The edge probes each origin's probes.path once a minute (config `probes`). A canary failing 3 in a row is aborted by the guard; a failing stable origin is never answered with an abort: check it now. See docs/POST-LAUNCH.md.",
          value: { expression: percentOf(weightedCount(WHERE.ok), weightedCount()), alias: 'up_percent' },
          support: { expression: weightedCount(), alias: 'probes', minimum: 3 },
          where: [WHERE.probe],
          comparison: 'lt',
          threshold: 1,
          severity: 'critical',
        },
        UPTIME_WINDOW_MINUTES,
        environment,
      ),
    ],
    environment,
  );
}
