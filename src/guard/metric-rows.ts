import { GUARD_ALPHA, judgeShare, type ShareJudgement } from './exact-tests';
import type { Thresholds } from './guard-settings';
import type { SampleRatio } from './sample-ratio';
import type { MetricRow, TableCohort, TableInput, TableWindow } from './verdict-table';

/**
 * The rows of the verdict table, one builder per kind of metric: the error rate (threshold
 * raised to stable + the margin), the p95 (a share of slow requests), a business share (email,
 * uploads, routes) and the split test. Each judges stored counts with the exact test of
 * exact-tests.ts on every window it is given and words the judgement for people.
 */

/** A row before the policy marks it dry run or not. */
export type Row = Omit<MetricRow, 'dryRun'>;
type Windows = readonly (TableWindow & { window: string })[];

// The words every share row ends with: the test's p-value, or what an underpowered row needs.
function evidence(j: ShareJudgement, noun: string, windows: Windows): string {
  const p = j.pValue < 1 ? `, p ${formatP(j.pValue)}` : '';
  if (j.class === 'fail') return `over ${windows[j.window]!.window}${p} < ${GUARD_ALPHA}`;
  const tested = p ? `${p} ≥ ${GUARD_ALPHA}` : '';
  if (j.class === 'underpowered')
    return `${tested}; inconclusive (underpowered): needs ${j.needs} more ${noun} (${j.minimum} to catch twice the allowed share)`;
  return tested;
}

function judged(j: ShareJudgement): Pick<Row, 'class' | 'pValue' | 'needs'> {
  return { class: j.class, pValue: j.pValue, ...(j.class === 'underpowered' ? { needs: j.needs } : {}) };
}

export function errorRateRow(
  input: TableInput,
  windows: Windows,
  allowed: (w: TableWindow) => number,
  t: Thresholds,
): Row {
  const j = judgeShare(
    windows.map((w) => ({ bad: w.canary.storedErrors, total: w.canary.storedRequests, allowed: allowed(w) })),
    t.minRequests,
  );
  const shown = windows[j.window]!;
  const rate = ratio(shown.canary.storedErrors, shown.canary.storedRequests);
  const limit = allowed(shown) * 100;
  const counts = `${shown.canary.storedErrors} errors in ${shown.canary.storedRequests} requests`;
  const message =
    j.class === 'fail'
      ? `canary error rate ${pct(rate ?? 0)} > ${pct(limit)} (max of ${t.maxErrorRatePercent} % and stable + ${t.stableMarginPercent} points): ${counts} ${evidence(j, 'requests', windows)}`
      : `canary error rate ${pct(rate ?? 0)}, not shown above ${pct(limit)}: ${counts}${evidence(j, 'requests', windows)}`;
  return {
    metric: 'errorRate',
    canary: ratio(input.canary.errors, input.canary.requests) ?? 0,
    stable: input.stable.requests > 0 ? (ratio(input.stable.errors, input.stable.requests) ?? 0) : null,
    threshold: t.maxErrorRatePercent,
    failsWhen: 'above',
    unit: '%',
    samples: input.canary.storedRequests,
    ...judged(j),
    message,
  };
}

export function p95Row(input: TableInput, windows: Windows, t: Thresholds): Row {
  const j = judgeShare(
    windows.map((w) => ({ bad: w.canary.storedSlow, total: w.canary.storedRequests, allowed: 0.05 })),
    t.minRequests,
  );
  const shown = windows[j.window]!;
  const slow = ratio(shown.canary.storedSlow, shown.canary.storedRequests) ?? 0;
  const counts = `${pct(slow)} of requests slower than ${t.maxP95Ms} ms (${shown.canary.storedSlow} of ${shown.canary.storedRequests})`;
  return {
    metric: 'p95',
    canary: input.canary.p95Ms,
    stable: input.stable.requests > 0 ? input.stable.p95Ms : null,
    threshold: t.maxP95Ms,
    failsWhen: 'above',
    unit: 'ms',
    samples: input.canary.storedRequests,
    ...judged(j),
    message:
      j.class === 'fail'
        ? `canary p95 ${Math.round(input.canary.p95Ms)} ms > ${t.maxP95Ms} ms: ${counts}, more than 5 % ${evidence(j, 'requests', windows)}`
        : `canary p95 ${Math.round(input.canary.p95Ms)} ms: ${counts}, not shown above 5 %${evidence(j, 'requests', windows)}`,
  };
}

export function shareRow(spec: {
  metric: string;
  label: string;
  windows: Windows;
  /** Stored [good, bad] or [bad, good] per cohort and window; see `good`. */
  counts: (cohort: TableCohort, w: TableWindow, name: 'canary' | 'stable') => [number, number];
  weighted: (cohort: TableCohort, w: TableWindow, name: 'canary' | 'stable') => [number, number];
  /** The threshold, in percent of the first count (`good`: a minimum success, else a maximum failure). */
  threshold: number;
  good: boolean;
  floor: number;
  noun: string;
}): Row {
  const allowed = spec.good ? 1 - spec.threshold / 100 : spec.threshold / 100;
  const bad = (pair: [number, number]) => (spec.good ? pair[1] : pair[0]);
  const j = judgeShare(
    spec.windows.map((w) => {
      const pair = spec.counts(w.canary, w, 'canary');
      return { bad: bad(pair), total: pair[0] + pair[1], allowed };
    }),
    spec.floor,
  );
  const recent = spec.windows[0]!;
  const value = (name: 'canary' | 'stable') => {
    const [first, second] = spec.weighted(recent[name], recent, name);
    return ratio(first, first + second);
  };
  const stored = spec.counts(recent.canary, recent, 'canary');
  const samples = stored[0] + stored[1];
  const canary = value('canary');
  const base = {
    metric: spec.metric,
    canary: canary ?? null,
    stable: value('stable') ?? null,
    threshold: spec.threshold,
    failsWhen: spec.good ? ('below' as const) : ('above' as const),
    unit: '%' as const,
    samples,
    ...judged(j),
  };
  if (j.class === 'nodata') return { ...base, message: `${spec.label}: no ${spec.noun} in the window` };
  const shown = spec.windows[j.window]!;
  const pair = spec.counts(shown.canary, shown, 'canary');
  const rate = ratio(pair[0], pair[0] + pair[1]) ?? 0;
  const fails = j.class === 'fail';
  const sign = spec.good ? '<' : '>';
  const judgedAs = fails
    ? `${sign} ${spec.threshold} %`
    : `, not shown ${spec.good ? 'below' : 'above'} ${spec.threshold} %`;
  return {
    ...base,
    message: `canary ${spec.label} ${pct(rate)}${fails ? ' ' : ''}${judgedAs} (${Math.round(pair[0] + pair[1])} ${spec.noun})${fails ? ' ' : ''}${evidence(j, spec.noun, spec.windows)}`,
  };
}

export function srmRow(srm: SampleRatio): Row {
  return {
    metric: 'srm',
    canary: srm.observedCanaryPercent,
    stable: srm.expectedCanaryPercent,
    threshold: srm.threshold,
    failsWhen: 'below',
    unit: 'p',
    samples: srm.canary + srm.stable,
    class: srm.class,
    message: srm.note,
  };
}

function ratio(part: number, total: number): number | undefined {
  return total > 0 ? (part / total) * 100 : undefined;
}

function pct(value: number): string {
  return `${value.toFixed(2)} %`;
}

function formatP(p: number): string {
  if (p < 1e-12) return '< 1e-12';
  return p < 0.0001 ? p.toExponential(1) : p.toPrecision(2);
}
