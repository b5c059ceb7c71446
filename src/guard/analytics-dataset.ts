/**
 * The Analytics Engine dataset each environment writes to, by its `ENVIRONMENT` var. These must
 * match the `analytics_engine_datasets` bindings in wrangler.toml (a unit test checks that), so
 * the guard reads the same table the splitter writes.
 */
export const ANALYTICS_DATASETS: Readonly<Record<string, string>> = Object.freeze({
  development: 'edge_rollout',
  staging: 'edge_rollout_staging',
  production: 'edge_rollout',
});

/** The dataset of an environment not listed in {@link ANALYTICS_DATASETS}. */
export const DEFAULT_ANALYTICS_DATASET = 'edge_rollout';

/**
 * The dataset the guard queries: an explicit `ANALYTICS_DATASET` var wins, else the one of the
 * environment.
 *
 * @example
 * analyticsDatasetFor('staging'); // 'edge_rollout_staging'
 */
export function analyticsDatasetFor(environment: string, explicit?: string): string {
  return explicit ?? ANALYTICS_DATASETS[environment] ?? DEFAULT_ANALYTICS_DATASET;
}
