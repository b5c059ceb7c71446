import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../src/guard/guard-settings';
import { monitoringDashboards, monitoringQueries } from '../../monitoring/generator/monitoring-files';
import { checkAnalyticsSql } from '../../monitoring/generator/sql-check';
import { DATASETS } from '../../monitoring/generator/grafana-datasource-and-panels';

describe('SQL of every generated panel and alert rule', () => {
  const queries = monitoringQueries();

  it('covers every panel of the three dashboards and the five alert rules of each environment', () => {
    const panels = Object.values(monitoringDashboards()).flatMap((dashboard) => dashboard.panels ?? []);
    expect(queries.filter((query) => query.file.endsWith('.json'))).toHaveLength(panels.length);
    expect(queries.filter((query) => query.file.endsWith('.yml'))).toHaveLength(
      5 * Object.keys(DATASETS).length,
    );
  });

  it.each(monitoringQueries().map((query) => [`${query.file} · ${query.title}`, query.sql]))(
    '%s uses declared columns, weighted aggregates and supported functions only',
    (_name, sql) => {
      expect(checkAnalyticsSql(sql)).toEqual([]);
    },
  );

  it('shows canary and stable side by side: every panel is split by cohort or filtered to one', () => {
    // The propagation panel is the one split by config version: versions, not cohorts, move there.
    for (const query of queries.filter((q) => q.title !== 'Config version propagation'))
      expect(query.sql, `${query.file} · ${query.title}`).toMatch(
        /blob11 AS cohort|blob11 = '(canary|stable)'/,
      );
  });

  it('has the request, error, latency, failover and business panels the launch needs', () => {
    const titles = queries.map((query) => query.title);
    for (const title of [
      'Request rate',
      'Error rate',
      'Latency p50 (total)',
      'Latency p95 (total)',
      'Latency p99 (total)',
      'Failovers',
      'Origin up',
      'Origin down: every health probe failed (5 min)',
      'Invoice creation rate',
      'Template usage rate',
      'Email send rate',
      'Email delivery success',
      'File upload success',
    ])
      expect(titles).toContain(title);
  });

  it('draws the launch thresholds on the panels they apply to', () => {
    const steps = (title: string) => {
      for (const dashboard of Object.values(monitoringDashboards()))
        for (const panel of dashboard.panels ?? [])
          if (panel.title === title && 'fieldConfig' in panel)
            return panel.fieldConfig?.defaults.thresholds?.steps;
      return undefined;
    };
    expect(steps('Error rate')?.[1]?.value).toBe(DEFAULT_THRESHOLDS.maxErrorRatePercent);
    expect(steps('Latency p95 (total)')?.[1]?.value).toBe(DEFAULT_THRESHOLDS.maxP95Ms);
    expect(steps('Email delivery success')?.[1]?.value).toBe(DEFAULT_THRESHOLDS.minEmailDeliveryPercent);
    expect(steps('File upload success')?.[1]?.value).toBe(100 - DEFAULT_THRESHOLDS.maxUploadFailurePercent);
  });
});

describe('checkAnalyticsSql', () => {
  it.each([
    ['SELECT avg(double1) FROM t WHERE _sample_interval > 0', /function avg\(/],
    ['SELECT quantile(0.95)(double1) FROM t WHERE _sample_interval > 0', /function quantile\(/],
    ['SELECT count() FROM t WHERE _sample_interval > 0', /function count\(/],
    ['SELECT SUM(double1) FROM t', /never uses _sample_interval/],
    ['SELECT SUM(double1), SUM(_sample_interval) FROM t', /SUM\(double1\) is not weighted/],
    [
      'SELECT quantileExactWeighted(0.95)(double1, 1), SUM(_sample_interval) FROM t',
      /quantileExactWeighted.* is not weighted/,
    ],
    ['SELECT blob12, SUM(_sample_interval) FROM t', /column blob12 is not declared/],
    ['SELECT SUM(_sample_interval * double9) FROM t', /column double9 is not declared/],
    ['SELECT SUM(_sample_interval) FROM t WHERE $__timeFilter(timestamp)', /unknown macro \$__timeFilter/],
  ])('flags %s', (sql, problem) => {
    expect(checkAnalyticsSql(sql).join('\n')).toMatch(problem);
  });

  it('ignores look-alikes inside string literals', () => {
    expect(checkAnalyticsSql("SELECT SUM(_sample_interval) FROM t WHERE blob5 = 'avg(blob99)'")).toEqual([]);
  });
});
