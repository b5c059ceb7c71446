import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../src/guard/guard-settings';
import {
  DATASETS,
  DATASOURCE_INPUT,
  DATASOURCE_TYPE,
  DATASOURCE_UID,
  MIN_GRAFANA_VERSION,
  MIN_PLUGIN_VERSION,
} from '../../monitoring/generator/grafana-datasource-and-panels';
import {
  monitoringAlerts,
  monitoringDashboards,
  monitoringFiles,
} from '../../monitoring/generator/monitoring-files';

const root = resolve(import.meta.dirname, '../..');

describe('monitoring/', () => {
  it.each(Object.entries(monitoringFiles()))(
    '%s is what `npm run monitoring:build` generates',
    (path, text) => {
      let committed: string;
      try {
        committed = readFileSync(resolve(root, path), 'utf8');
      } catch {
        throw new Error(`${path} is missing: run npm run monitoring:build`);
      }
      expect(committed, `${path} is stale: run npm run monitoring:build`).toBe(text);
    },
  );

  it('alerts on the launch thresholds over the guard window, against the provisioned datasource', () => {
    const rules = Object.values(monitoringAlerts()).flatMap((file) =>
      file.groups.flatMap((group) => group.rules),
    );
    const thresholdOf = (uid: string) => {
      const rule = rules.find((candidate) => candidate.uid === uid)!;
      const condition = rule.data[2] as {
        model: { conditions: { evaluator: { type: string; params: number[] } }[] };
      };
      const query = rule.data[0] as { datasourceUid: string; relativeTimeRange: { from: number } };
      expect(query.datasourceUid).toBe(DATASOURCE_UID);
      expect(query.relativeTimeRange.from).toBe(DEFAULT_THRESHOLDS.errorWindowMinutes * 60);
      return condition.model.conditions[0]!.evaluator;
    };
    expect(thresholdOf('edge-rollout-error-rate')).toEqual({
      type: 'gt',
      params: [DEFAULT_THRESHOLDS.maxErrorRatePercent],
    });
    expect(thresholdOf('edge-rollout-p95')).toEqual({ type: 'gt', params: [DEFAULT_THRESHOLDS.maxP95Ms] });
    expect(thresholdOf('edge-rollout-email-delivery')).toEqual({
      type: 'lt',
      params: [DEFAULT_THRESHOLDS.minEmailDeliveryPercent],
    });
    expect(thresholdOf('edge-rollout-upload-failures')).toEqual({
      type: 'gt',
      params: [DEFAULT_THRESHOLDS.maxUploadFailurePercent],
    });
  });

  it('changes the generated rules when a threshold changes (they are derived, not copied)', () => {
    const tighter = monitoringFiles({ ...DEFAULT_THRESHOLDS, maxP95Ms: 1500 });
    expect(tighter['monitoring/alerts/production/performance.yml']).toContain('p95 latency above 1500 ms');
    expect(tighter['monitoring/alerts/production/performance.yml']).not.toEqual(
      monitoringFiles()['monitoring/alerts/production/performance.yml'],
    );
  });

  it('writes alert rules per environment, each reading its own dataset, with uids and titles that never collide', () => {
    const files = Object.entries(monitoringAlerts());
    for (const [environment, dataset] of Object.entries(DATASETS)) {
      const own = files.filter(([path]) => path.startsWith(`monitoring/alerts/${environment}/`));
      expect(own.map(([path]) => path.split('/').pop()).sort()).toEqual([
        'business.yml',
        'error-rate.yml',
        'performance.yml',
        'uptime.yml',
      ]);
      for (const [, file] of own)
        for (const rule of file.groups.flatMap((group) => group.rules)) {
          const sql = (rule.data[0] as { model: { query: string } }).model.query;
          const tables = [...sql.matchAll(/FROM\s+([a-z_]+)/g)].map((match) => match[1]);
          expect(tables.filter((table) => Object.values(DATASETS).includes(table as never))).toEqual([
            dataset,
          ]);
          expect(rule.labels.environment).toBe(environment);
        }
    }
    const rules = files.flatMap(([, file]) => file.groups.flatMap((group) => group.rules));
    expect(new Set(rules.map((rule) => rule.uid)).size).toBe(rules.length);
    expect(new Set(rules.map((rule) => rule.title)).size).toBe(rules.length);
    const groups = files.flatMap(([, file]) => file.groups.map((group) => group.name));
    expect(new Set(groups).size).toBe(groups.length);
  });

  it('gives each dashboard the Import screen’s datasource picker and the versions it needs, as the README states them', () => {
    const readme = readFileSync(resolve(root, 'monitoring/README.md'), 'utf8');
    for (const dashboard of Object.values(monitoringDashboards())) {
      expect(dashboard.__inputs).toEqual([
        expect.objectContaining({ name: DATASOURCE_INPUT, type: 'datasource', pluginId: DATASOURCE_TYPE }),
      ]);
      const variable = dashboard.templating?.list?.find((v) => v.name === 'datasource');
      expect(variable?.current?.value).toBe(`\${${DATASOURCE_INPUT}}`);
      expect(dashboard.__requires).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: 'grafana', version: MIN_GRAFANA_VERSION }),
          expect.objectContaining({ id: DATASOURCE_TYPE, version: MIN_PLUGIN_VERSION }),
        ]),
      );
    }
    expect(readme).toContain(`Grafana ${MIN_GRAFANA_VERSION.replace(/\.0$/, '')} or later`);
    expect(readme).toContain(`${MIN_PLUGIN_VERSION.replace(/\.0$/, '')} or later`);
  });
});
