/** The Altinity ClickHouse plugin, which Cloudflare recommends for the Analytics Engine SQL API. */
export const DATASOURCE_TYPE = 'vertamedia-clickhouse-datasource';

/** The uid the provisioned datasource gets; alert rules point at it by uid. */
export const DATASOURCE_UID = 'edge-rollout-analytics-engine';

/** The Analytics Engine datasets wrangler.toml writes to, by environment. */
export const DATASETS = { production: 'edge_rollout', staging: 'edge_rollout_staging' } as const;

/** The folder the dashboards and alert rules live in. */
export const GRAFANA_FOLDER = 'edge-rollout';

/**
 * A Grafana datasource provisioning file for the Analytics Engine SQL API. The account id and
 * API token come from Grafana's environment, so the file holds no secret.
 *
 * @example
 * writeFileSync('monitoring/datasources/analytics-engine.yml', toYaml(datasourceProvisioning()));
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
