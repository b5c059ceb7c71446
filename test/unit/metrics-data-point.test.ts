import { describe, expect, it } from 'vitest';
import {
  BLOB_COLUMNS,
  DOUBLE_COLUMNS,
  INDEX_COLUMN,
  toDataPoint,
  type RequestMetric,
} from '../../src/metrics/data-point-schema';

const metric: RequestMetric = {
  cohort: 'stable',
  assignedCohort: 'canary',
  configVersion: 12,
  workerVersion: 'v-123',
  method: 'GET',
  route: 'other',
  status: 503,
  outcome: 'failover',
  colo: 'FRA',
  country: 'DE',
  totalMs: 84,
  upstreamMs: 80,
  failover: true,
};

describe('Analytics Engine data point', () => {
  it('keeps every column at its stored position (columns are append-only)', () => {
    expect(BLOB_COLUMNS).toEqual({
      cohort: 'blob1',
      configVersion: 'blob2',
      workerVersion: 'blob3',
      method: 'blob4',
      route: 'blob5',
      statusClass: 'blob6',
      outcome: 'blob7',
      colo: 'blob8',
      country: 'blob9',
      routeResult: 'blob10',
      assignedCohort: 'blob11',
    });
    expect(DOUBLE_COLUMNS).toEqual({
      totalMs: 'double1',
      upstreamMs: 'double2',
      status: 'double3',
      failover: 'double4',
      occurrences: 'double5',
    });
    expect(INDEX_COLUMN).toBe('index1');
  });

  it('encodes a failover request in column order, indexed by the cohort that served it', () => {
    expect(toDataPoint(metric)).toEqual({
      indexes: ['stable'],
      blobs: ['stable', '12', 'v-123', 'GET', 'other', '5xx', 'failover', 'FRA', 'DE', 'none', 'canary'],
      doubles: [84, 80, 503, 1, 1],
    });
  });

  it('writes route success, a missing status and an event count', () => {
    const event = toDataPoint({
      ...metric,
      cohort: 'canary',
      method: 'EVENT',
      route: 'email_delivery',
      status: 0,
      outcome: 'error',
      routeSuccess: false,
      failover: false,
      occurrences: 40,
    });
    expect(event.blobs.slice(3, 7)).toEqual(['EVENT', 'email_delivery', 'none', 'error']);
    expect(event.blobs[9]).toBe('failure');
    expect(event.doubles.slice(3)).toEqual([0, 40]);
    expect(toDataPoint({ ...metric, routeSuccess: true }).blobs[9]).toBe('success');
  });
});
