import {
  GuardVerdictRecordSchema,
  type BreachReason,
  type GuardVerdictRecord,
} from '../../src/guard/verdict';

/** What a test says about a stored guard verdict; the rest gets plausible numbers. */
export interface VerdictFixture {
  status: GuardVerdictRecord['status'];
  at: string;
  canaryErrorRatePercent?: number;
  reasons?: BreachReason[];
  reason?: string;
}

/**
 * A `guard:verdict` value exactly as the guard stores it (validated by its schema), for tests
 * that stand in for a guard run.
 *
 * @example
 * await putLocalKv(dir, 'guard:verdict', JSON.stringify(guardVerdictRecord({ status: 'healthy', at })));
 */
export function guardVerdictRecord(fixture: VerdictFixture): GuardVerdictRecord {
  const errorRate = fixture.canaryErrorRatePercent ?? 0.2;
  const numbers = {
    window: 'last 5 min',
    canary: {
      requests: 500,
      errors: Math.round((500 * errorRate) / 100),
      errorRatePercent: errorRate,
      p95Ms: 300,
      emailSamples: 0,
      emailDeliveryPercent: null,
      uploadSamples: 0,
      uploadFailurePercent: null,
    },
    stable: { requests: 4500, errorRatePercent: 0.2, baselineErrorRatePercent: 0.2 },
    thresholds: { maxErrorRatePercent: 1, maxP95Ms: 2000 },
  };
  const action = { type: 'none', why: 'test' };
  const byStatus = {
    healthy: { numbers },
    breach: { numbers, reasons: fixture.reasons ?? [] },
    inconclusive: { numbers, reason: fixture.reason ?? 'too little traffic' },
    unknown: { reason: fixture.reason ?? 'SQL API answered 500' },
  }[fixture.status];
  return GuardVerdictRecordSchema.parse({ status: fixture.status, at: fixture.at, action, ...byStatus });
}
