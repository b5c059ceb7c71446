import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../src/guard/guard-settings';
import { DATASOURCE_UID } from '../../monitoring/generator/grafana-datasource-and-panels';
import { monitoringAlerts, monitoringFiles } from '../../monitoring/generator/monitoring-files';

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
    expect(tighter['monitoring/alerts/performance.yml']).toContain('p95 latency above 1500 ms');
    expect(tighter['monitoring/alerts/performance.yml']).not.toEqual(
      monitoringFiles()['monitoring/alerts/performance.yml'],
    );
  });
});
