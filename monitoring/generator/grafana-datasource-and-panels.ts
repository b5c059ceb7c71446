import {
  FieldColorModeId,
  ThresholdsMode,
  type DataSourceRef,
  type Panel,
  type Threshold,
} from '@grafana/schema';

// The Grafana side shared by the dashboards and the alert rules: which datasource reads
// Analytics Engine, and how one time series panel over it looks.

/** The Altinity ClickHouse plugin, which Cloudflare recommends for the Analytics Engine SQL API. */
export const DATASOURCE_TYPE = 'vertamedia-clickhouse-datasource';

/** The uid the provisioned datasource gets; alert rules point at it by uid. */
export const DATASOURCE_UID = 'edge-rollout-analytics-engine';

/** The Analytics Engine datasets wrangler.toml writes to, by environment. */
export const DATASETS = { production: 'edge_rollout', staging: 'edge_rollout_staging' } as const;

/** A wrangler environment with its own Analytics Engine dataset. */
export type Environment = keyof typeof DATASETS;

/** The plugin's name as Grafana's Import screen shows it. */
export const DATASOURCE_PLUGIN_NAME = 'Altinity plugin for ClickHouse';

/**
 * The oldest Grafana the generated files are written for: the dashboards carry schemaVersion 39
 * (what Grafana 10.4 writes), and file-provisioned alert rules need 9.1 or later.
 */
export const MIN_GRAFANA_VERSION = '10.4.0';

/**
 * The oldest Altinity plugin the files are written for: 3.0 is the first without AngularJS,
 * which Grafana 11 no longer loads, and the alert rules need the plugin's backend.
 */
export const MIN_PLUGIN_VERSION = '3.0.0';

/** The name of the Import screen's datasource picker; the dashboards' datasource variable defaults to it. */
export const DATASOURCE_INPUT = 'DS_ANALYTICS_ENGINE';

/** The folder the dashboards and alert rules live in. */
export const GRAFANA_FOLDER = 'edge-rollout';

/**
 * A Grafana datasource provisioning file for the Analytics Engine SQL API. The account id and
 * API token come from Grafana's environment, so the file holds no secret.
 */
export function datasourceProvisioning() {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: 'Workers Analytics Engine',
        uid: DATASOURCE_UID,
        type: DATASOURCE_TYPE,
        access: 'proxy',
        url: 'https://api.cloudflare.com/client/v4/accounts/${CF_ACCOUNT_ID}/analytics_engine/sql',
        basicAuth: false,
        editable: false,
        jsonData: { httpHeaderName1: 'Authorization' },
        secureJsonData: { httpHeaderValue1: 'Bearer ${CF_ANALYTICS_API_TOKEN}' },
      },
    ],
  };
}

/** Panels read through the dashboard's `datasource` variable, so an import can pick any instance. */
export const PANEL_DATASOURCE = { type: DATASOURCE_TYPE, uid: '${datasource}' } satisfies DataSourceRef;

/** A limit drawn on a panel: values above `max` (or below `min`) are red. */
export type PanelLimit = { max: number } | { min: number };

/** What a time series panel shows. */
export interface SeriesPanelSpec {
  title: string;
  description: string;
  sql: string;
  /** A Grafana unit id: `reqps`, `ms`, `percent`, `short`… */
  unit: string;
  limit?: PanelLimit;
  /** Stack the series to 100 % (each series' share of the interval), e.g. config versions. */
  stackPercent?: boolean;
}

// Fixed colours so canary and stable read the same on every panel.
const COHORT_COLOURS = { canary: 'orange', stable: 'green' } as const;

/**
 * The Altinity datasource's query model for raw SQL over Analytics Engine: `timestamp` is the
 * DateTime column behind `$timeSeries`/`$timeFilter`, and there is no Date column.
 */
export function altinityTarget(
  refId: string,
  sql: string,
  datasource: { type: string; uid: string } = PANEL_DATASOURCE,
) {
  return {
    refId,
    datasource,
    rawQuery: true,
    query: sql,
    format: 'time_series',
    dateTimeType: 'DATETIME',
    dateTimeColDataType: 'timestamp',
    dateColDataType: '',
    round: '0s',
    intervalFactor: 1,
    extrapolate: false,
    skip_comments: true,
  };
}

function thresholdSteps(limit: PanelLimit | undefined): Threshold[] {
  if (!limit) return [{ color: 'green', value: null }];
  return 'max' in limit
    ? [
        { color: 'green', value: null },
        { color: 'red', value: limit.max },
      ]
    : [
        { color: 'red', value: null },
        { color: 'green', value: limit.min },
      ];
}

/**
 * A time series panel, one series per cohort (or route), the limit drawn as a line.
 */
export function seriesPanel(id: number, at: { x: number; y: number }, spec: SeriesPanelSpec): Panel {
  return {
    id,
    type: 'timeseries',
    title: spec.title,
    description: spec.description,
    datasource: PANEL_DATASOURCE,
    gridPos: { x: at.x, y: at.y, w: 12, h: 8 },
    interval: '1m',
    targets: [altinityTarget('A', spec.sql)],
    fieldConfig: {
      defaults: {
        unit: spec.unit,
        min: 0,
        thresholds: { mode: ThresholdsMode.Absolute, steps: thresholdSteps(spec.limit) },
        custom: {
          drawStyle: 'line',
          lineWidth: 2,
          fillOpacity: spec.stackPercent ? 60 : 0,
          spanNulls: false,
          ...(spec.stackPercent ? { stacking: { mode: 'percent', group: 'A' } } : {}),
          thresholdsStyle: { mode: spec.limit ? 'line' : 'off' },
        },
      },
      overrides: Object.entries(COHORT_COLOURS).map(([cohort, colour]) => ({
        matcher: { id: 'byName', options: cohort },
        properties: [{ id: 'color', value: { mode: FieldColorModeId.Fixed, fixedColor: colour } }],
      })),
    },
    options: {
      legend: {
        showLegend: true,
        displayMode: 'table',
        placement: 'bottom',
        calcs: ['mean', 'max', 'lastNotNull'],
      },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  };
}

/**
 * Lays panels out two per row, in order.
 */
export function twoColumns(specs: readonly SeriesPanelSpec[]): Panel[] {
  return specs.map((spec, index) =>
    seriesPanel(index + 1, { x: (index % 2) * 12, y: Math.floor(index / 2) * 8 }, spec),
  );
}
