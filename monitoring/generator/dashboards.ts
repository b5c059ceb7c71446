import { DashboardCursorSync, type Dashboard, type VariableModel } from '@grafana/schema';
import type { Thresholds } from '../../src/guard/guard-settings';
import { DOUBLE_COLUMNS as DOUBLE } from '../../src/metrics/data-point-schema';
import {
  all,
  percentOf,
  timeSeriesQuery,
  weightedCount,
  weightedOccurrences,
  weightedQuantile,
  WHERE,
} from '../../src/metrics/queries';
import {
  DATASETS,
  DATASOURCE_INPUT,
  DATASOURCE_PLUGIN_NAME,
  DATASOURCE_TYPE,
  MIN_GRAFANA_VERSION,
  MIN_PLUGIN_VERSION,
  twoColumns,
  type SeriesPanelSpec,
} from './grafana-datasource-and-panels';

const DATASET = '${dataset}';

const VARIABLES: VariableModel[] = [
  {
    name: 'datasource',
    label: 'Analytics Engine',
    type: 'datasource',
    query: DATASOURCE_TYPE,
    // Replaced by the datasource picked on the Import screen. A provisioned copy keeps the
    // text, and Grafana falls back to the first datasource of the plugin's type.
    current: { text: `\${${DATASOURCE_INPUT}}`, value: `\${${DATASOURCE_INPUT}}` },
  },
  {
    name: 'dataset',
    label: 'Dataset',
    type: 'custom',
    query: Object.values(DATASETS).join(','),
    current: { text: DATASETS.production, value: DATASETS.production },
    options: Object.values(DATASETS).map((name, index) => ({
      text: name,
      value: name,
      selected: index === 0,
    })),
  },
];

/**
 * A dashboard as Grafana exports it for sharing: `__inputs` makes the Import screen offer a
 * datasource picker, `__requires` names the Grafana, plugin and panel versions it needs.
 */
export type ImportableDashboard = Dashboard & {
  __inputs: {
    name: string;
    label: string;
    description: string;
    type: 'datasource';
    pluginId: string;
    pluginName: string;
  }[];
  __requires: { type: 'grafana' | 'datasource' | 'panel'; id: string; name: string; version: string }[];
};

const IMPORT_HEADER = {
  __inputs: [
    {
      name: DATASOURCE_INPUT,
      label: 'Workers Analytics Engine',
      description: 'The Altinity ClickHouse datasource pointed at the Analytics Engine SQL API',
      type: 'datasource' as const,
      pluginId: DATASOURCE_TYPE,
      pluginName: DATASOURCE_PLUGIN_NAME,
    },
  ],
  __requires: [
    { type: 'grafana' as const, id: 'grafana', name: 'Grafana', version: MIN_GRAFANA_VERSION },
    {
      type: 'datasource' as const,
      id: DATASOURCE_TYPE,
      name: DATASOURCE_PLUGIN_NAME,
      version: MIN_PLUGIN_VERSION,
    },
    { type: 'panel' as const, id: 'timeseries', name: 'Time series', version: '' },
  ],
};

function dashboard(
  uid: string,
  title: string,
  description: string,
  panels: SeriesPanelSpec[],
): ImportableDashboard {
  return {
    ...IMPORT_HEADER,
    uid,
    title,
    description,
    tags: ['edge-rollout'],
    editable: true,
    timezone: 'utc',
    graphTooltip: DashboardCursorSync.Crosshair,
    schemaVersion: 39,
    time: { from: 'now-3h', to: 'now' },
    refresh: '1m',
    templating: { list: VARIABLES },
    annotations: { list: [] },
    panels: twoColumns(panels),
  };
}

const perSecond = (condition?: string) => `${weightedCount(condition)} / $interval`;
const perMinute = (condition: string) => `${weightedCount(condition)} * 60 / $interval`;
const quantileMs = (level: number, column: string) => weightedQuantile(level, column);

function latencyPanel(label: string, level: number, limitMs?: number): SeriesPanelSpec {
  return {
    title: `Latency ${label} (total)`,
    description: `${label} of the time from request to response headers, per cohort (failovers count for the canary).`,
    unit: 'ms',
    limit: limitMs === undefined ? undefined : { max: limitMs },
    sql: timeSeriesQuery({
      dataset: DATASET,
      where: [WHERE.request],
      values: [{ expression: quantileMs(level, DOUBLE.totalMs), alias: label }],
    }),
  };
}

/**
 * Request rate, latency quantiles and failovers, canary and stable side by side.
 */
export function performanceDashboard(thresholds: Thresholds): ImportableDashboard {
  return dashboard(
    'edge-rollout-performance',
    'edge-rollout · performance',
    'Traffic and latency per cohort.',
    [
      {
        title: 'Request rate',
        description: 'Proxied requests per second, per assigned cohort.',
        unit: 'reqps',
        sql: timeSeriesQuery({
          dataset: DATASET,
          where: [WHERE.request],
          values: [{ expression: perSecond(), alias: 'requests' }],
        }),
      },
      {
        title: 'Failovers',
        description:
          'Canary failures replayed on stable, per minute. The visitor was served; the canary failed.',
        unit: 'short',
        sql: timeSeriesQuery({
          dataset: DATASET,
          where: [WHERE.request],
          values: [{ expression: perMinute(WHERE.failover), alias: 'failovers' }],
        }),
      },
      {
        title: 'Config version propagation',
        description:
          "Share of proxied requests served with each config version. After a change, the new version's share climbs to 100 % within about 60 s + the config cache time; the guard starts a step's bake in the first minute where it serves at least 99 %.",
        unit: 'short',
        stackPercent: true,
        sql: timeSeriesQuery({
          dataset: DATASET,
          by: 'configVersion',
          where: [WHERE.request],
          values: [{ expression: `${weightedCount()} * 60 / $interval`, alias: 'requests' }],
        }),
      },
      latencyPanel('p50', 0.5),
      latencyPanel('p95', 0.95, thresholds.maxP95Ms),
      latencyPanel('p99', 0.99),
      {
        title: 'Upstream latency p95',
        description: 'p95 of the time spent waiting for the origin(s), per cohort.',
        unit: 'ms',
        sql: timeSeriesQuery({
          dataset: DATASET,
          where: [WHERE.request],
          values: [{ expression: quantileMs(0.95, DOUBLE.upstreamMs), alias: 'upstream_p95' }],
        }),
      },
    ],
  );
}

function errorsByRoute(cohort: 'canary' | 'stable'): SeriesPanelSpec {
  return {
    title: `Failed requests by route (${cohort})`,
    description: `Failed requests per minute for the ${cohort}, by business route (\`other\` for the rest).`,
    unit: 'short',
    sql: timeSeriesQuery({
      dataset: DATASET,
      by: 'route',
      where: [WHERE.request, WHERE.cohort(cohort)],
      values: [{ expression: perMinute(WHERE.failed), alias: 'failed' }],
    }),
  };
}

/**
 * Error rate, 5xx/4xx rates, failovers and failures by route, canary and stable side by side.
 */
export function errorsDashboard(thresholds: Thresholds): ImportableDashboard {
  return dashboard('edge-rollout-errors', 'edge-rollout · errors', 'Errors and failovers per cohort.', [
    {
      title: 'Error rate',
      description:
        'Percent of requests that failed (5xx, no response, or a canary failure served by stable), per assigned cohort.',
      unit: 'percent',
      limit: { max: thresholds.maxErrorRatePercent },
      sql: timeSeriesQuery({
        dataset: DATASET,
        where: [WHERE.request],
        values: [
          { expression: percentOf(weightedCount(WHERE.failed), weightedCount()), alias: 'error_rate' },
        ],
      }),
    },
    {
      title: 'Origin up',
      description:
        "Share of the edge's health probes (one per origin per minute, on the config's probes.path) that got the expected status, per origin. Empty when probing is off.",
      unit: 'percent',
      limit: { min: 100 },
      sql: timeSeriesQuery({
        dataset: DATASET,
        where: [WHERE.probe],
        values: [{ expression: percentOf(weightedCount(WHERE.ok), weightedCount()), alias: 'up_percent' }],
      }),
    },
    {
      title: 'Failovers',
      description: 'Canary failures replayed on stable, per minute.',
      unit: 'short',
      sql: timeSeriesQuery({
        dataset: DATASET,
        where: [WHERE.request],
        values: [{ expression: perMinute(WHERE.failover), alias: 'failovers' }],
      }),
    },
    {
      title: '5xx responses',
      description: '5xx responses sent to visitors, per second.',
      unit: 'reqps',
      sql: timeSeriesQuery({
        dataset: DATASET,
        where: [WHERE.request],
        values: [{ expression: perSecond(WHERE.serverError), alias: 'server_errors' }],
      }),
    },
    {
      title: '4xx responses',
      description:
        '4xx responses sent to visitors, per second (a jump on one cohort hints at a broken route).',
      unit: 'reqps',
      sql: timeSeriesQuery({
        dataset: DATASET,
        where: [WHERE.request],
        values: [{ expression: perSecond(WHERE.clientError), alias: 'client_errors' }],
      }),
    },
    {
      title: 'Failures caused by visitors',
      description:
        'Requests the visitor broke (an aborted, short or too slow upload), per minute, per assigned cohort. They count in no error rate, latency or business rate, and the guard never judges them; a jump is a client or an attack, not a deploy.',
      unit: 'short',
      sql: timeSeriesQuery({
        dataset: DATASET,
        where: [WHERE.byClient],
        values: [{ expression: `${weightedCount()} * 60 / $interval`, alias: 'client_failures' }],
      }),
    },
    errorsByRoute('canary'),
    errorsByRoute('stable'),
  ]);
}

function perThousandRequests(route: string, title: string, what: string): SeriesPanelSpec {
  return {
    title,
    description: `Successful ${what} per 1,000 requests of the same cohort, so cohorts of different sizes compare fairly.`,
    unit: 'short',
    sql: timeSeriesQuery({
      dataset: DATASET,
      values: [
        {
          expression: `${weightedOccurrences(all(WHERE.route(route), WHERE.succeeded))} * 1000 / ${weightedCount(WHERE.request)}`,
          alias: route,
        },
      ],
    }),
  };
}

function successPercent(
  route: string,
  title: string,
  description: string,
  minPercent: number,
): SeriesPanelSpec {
  return {
    title,
    description,
    unit: 'percent',
    limit: { min: minPercent },
    sql: timeSeriesQuery({
      dataset: DATASET,
      where: [WHERE.route(route), WHERE.judged],
      values: [
        {
          expression: percentOf(weightedOccurrences(WHERE.succeeded), weightedOccurrences(WHERE.judged)),
          alias: `${route}_success`,
        },
      ],
    }),
  };
}

/**
 * The launch's business rates per cohort: invoices created, templates used, emails sent and
 * delivered, uploads succeeded.
 */
export function businessDashboard(thresholds: Thresholds): ImportableDashboard {
  return dashboard(
    'edge-rollout-business',
    'edge-rollout · business metrics',
    'Business outcomes per cohort (routes from the rollout config, events from POST /__rollout/events).',
    [
      perThousandRequests('invoice_created', 'Invoice creation rate', 'invoice creations'),
      perThousandRequests('template_used', 'Template usage rate', 'template uses'),
      perThousandRequests('email_sent', 'Email send rate', 'email sends'),
      successPercent(
        'email_delivery',
        'Email delivery success',
        'Delivered emails as a percent of delivery outcomes reported by the mail provider webhook.',
        thresholds.minEmailDeliveryPercent,
      ),
      successPercent(
        'file_upload',
        'File upload success',
        'Successful uploads as a percent of all uploads (requests and reported outcomes).',
        100 - thresholds.maxUploadFailurePercent,
      ),
    ],
  );
}
