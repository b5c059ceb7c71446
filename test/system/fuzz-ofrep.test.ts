import { describe, expect, it } from 'vitest';
import { bucket, inPercent } from '../../src/split/bucket';
import { ofrepFuzzCases } from '../support/fuzz/ofrep-cases';
import { fuzzRandom, fuzzSeed } from '../support/fuzz/random';
import { rawHttp } from '../support/fuzz/raw-http';
import { workerBehindFaultOrigins } from '../support/local-worker/miniflare-behind-fault-origins';

const SEED = fuzzSeed(20_261_515);
const CASES = Number(process.env.FUZZ_OFREP_CASES ?? 1000);
const FLAGS = {
  fileStorage: { enabled: true, percent: 50 },
  templates: { enabled: true, percent: 25, seed: 'templates-v1' },
  emailDelivery: { enabled: false, percent: 100, default: true },
  analytics: { enabled: true, percent: 100 },
} as const;
type FlagName = keyof typeof FLAGS;
const ERROR_CODES = ['PARSE_ERROR', 'TARGETING_KEY_MISSING', 'INVALID_CONTEXT', 'GENERAL'];

/** What the bucketing contract says the flag is for this id (no kill switch in this run). */
function expectedValue(name: FlagName, id: string): boolean {
  const flag = FLAGS[name];
  if (!flag.enabled) return 'default' in flag ? flag.default : false;
  return inPercent(bucket('seed' in flag ? flag.seed : name, id), flag.percent);
}

/** Why a 200 evaluation body is wrong, or undefined. */
function evaluationProblem(
  body: Record<string, unknown>,
  targetingKey: string | undefined,
): string | undefined {
  const { key, value, reason, variant, metadata } = body;
  if (typeof key !== 'string' || !(key in FLAGS)) return `key ${String(key)}`;
  if (typeof value !== 'boolean') return `value ${String(value)}`;
  if (!['STATIC', 'SPLIT', 'DEFAULT', 'DISABLED'].includes(String(reason))) return `reason ${String(reason)}`;
  if (variant !== (value ? 'on' : 'off')) return `variant ${String(variant)}`;
  if ((metadata as { configVersion?: unknown })?.configVersion !== 4)
    return `metadata ${JSON.stringify(metadata)}`;
  if (targetingKey !== undefined && value !== expectedValue(key as FlagName, targetingKey))
    return `${key} is ${value} for ${targetingKey}, the bucketing contract says ${!value}`;
  return undefined;
}

describe('fuzz: generated bodies, contexts, keys and headers on the OFREP endpoints', () => {
  const world = workerBehindFaultOrigins({ CONFIG_CACHE_SECONDS: '1' });

  it('answers every request with the status the spec allows for it, never a 5xx, and every value by the bucketing contract', async () => {
    const { worker } = world;
    await worker.kv.put(
      'config',
      JSON.stringify({
        version: 4,
        rollout: { percent: 30, salt: 'fuzz-ofrep', state: 'ramping' },
        flags: FLAGS,
      }),
    );
    for (let attempt = 0; ; attempt++) {
      const probe = await fetch(`${worker.url}/ofrep/flags`);
      if (((await probe.json()) as { configVersion: number }).configVersion === 4) break;
      if (attempt > 40) throw new Error('the config never reached the Worker');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const port = Number(new URL(worker.url).port);
    // The one validator that must answer 304: the tag of a real answer, for its own context.
    const targetingKey = 'fuzz-validator-0001';
    const tagged = await fetch(`${worker.url}/ofrep/v1/evaluate/flags`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ context: { targetingKey } }),
    });
    const validator = { targetingKey, etag: tagged.headers.get('etag') ?? '' };
    expect(validator.etag).toMatch(/^"ofrep-/);
    const cases = ofrepFuzzCases(fuzzRandom(SEED), CASES, port, Object.keys(FLAGS), validator);
    const failures: string[] = [];
    const byStatus: Record<string, number> = {};
    const byStrategy: Record<string, Record<number, number>> = {};
    let valuesChecked = 0;
    const started = performance.now();
    for (const [index, fuzzCase] of cases.entries()) {
      // OFREP refuses a body over its limit by the declared length, at once: hold such bodies
      // back the way curl's `Expect: 100-continue` wait does (see rawHttp).
      const response = await rawHttp(port, fuzzCase.bytes, 10_000, { holdLargeBodyMs: 10_000 });
      const label = `#${index} ${fuzzCase.strategy} ${fuzzCase.bytes.subarray(0, 90).toString().split('\r\n')[0]}`;
      byStatus[response.status] = (byStatus[response.status] ?? 0) + 1;
      const tally = (byStrategy[fuzzCase.strategy] ??= {});
      tally[response.status] = (tally[response.status] ?? 0) + 1;
      if (response.status === 0 || response.status >= 500) {
        failures.push(
          `${label}: ${response.status} ${response.error ?? response.body.subarray(0, 200).toString()}`,
        );
        continue;
      }
      if (!fuzzCase.allowed.includes(response.status)) {
        failures.push(
          `${label}: ${response.status}, allowed ${fuzzCase.allowed.join('/')}: ${response.body.subarray(0, 160).toString()}`,
        );
        continue;
      }
      const text = response.body.toString();
      if (
        response.status === 304 ||
        response.status === 204 ||
        fuzzCase.bytes.subarray(0, 5).toString() === 'HEAD '
      ) {
        if (text !== '') failures.push(`${label}: ${response.status} with a body`);
        continue;
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        failures.push(`${label}: ${response.status} without a JSON body: ${text.slice(0, 120)}`);
        continue;
      }
      if (response.status === 400) {
        if (!ERROR_CODES.includes(String(body.errorCode)))
          failures.push(`${label}: 400 with errorCode ${String(body.errorCode)}`);
        if (fuzzCase.errorCode && body.errorCode !== fuzzCase.errorCode)
          failures.push(`${label}: ${String(body.errorCode)}, expected ${fuzzCase.errorCode}`);
        if (typeof body.errorDetails !== 'string') failures.push(`${label}: 400 without errorDetails`);
      } else if (
        response.status === 404 &&
        fuzzCase.flagKey !== undefined &&
        body.errorCode !== 'FLAG_NOT_FOUND'
      )
        failures.push(`${label}: 404 without FLAG_NOT_FOUND`);
      else if (
        response.status === 404 &&
        body.errorCode === undefined &&
        typeof body.errorDetails !== 'string'
      )
        failures.push(`${label}: 404 without errorDetails`);
      else if (response.status === 200 && Array.isArray(body.flags)) {
        const flags = body.flags as Record<string, unknown>[];
        if (flags.length !== 4) failures.push(`${label}: ${flags.length} flags`);
        for (const flag of flags) {
          const problem = evaluationProblem(flag, fuzzCase.targetingKey);
          if (problem) failures.push(`${label}: ${problem}`);
          else if (fuzzCase.targetingKey) valuesChecked++;
        }
        const etag = response.headers.find(([name]) => name === 'etag')?.[1];
        if (!etag || !/^"ofrep-[A-Za-z0-9_-]{22}"$/.test(etag))
          failures.push(`${label}: ETag ${String(etag)}`);
      } else if (response.status === 200 && 'key' in body) {
        const problem = evaluationProblem(body, fuzzCase.targetingKey);
        if (problem) failures.push(`${label}: ${problem}`);
        else if (fuzzCase.targetingKey) valuesChecked++;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const fiveXx = Object.entries(byStatus)
      .filter(([status]) => Number(status) >= 500 || status === '0')
      .reduce((n, [, count]) => n + count, 0);
    console.log(
      `fuzz-ofrep: seed ${SEED}, requests ${cases.length}, failures ${failures.length}, 5xx ${fiveXx}, duration ${seconds.toFixed(1)} s, ` +
        `values checked against the bucketing contract ${valuesChecked}, statuses ${JSON.stringify(byStatus)}, by strategy ${JSON.stringify(byStrategy)}`,
    );
    expect(failures.slice(0, 10)).toEqual([]);
    expect(fiveXx).toBe(0);
    // The run reached both sides: real evaluations and every kind of refusal.
    expect(valuesChecked).toBeGreaterThan(CASES / 4);
    expect(Object.keys(byStatus).sort()).toEqual(
      expect.arrayContaining(['200', '204', '304', '400', '404', '405']),
    );
  });
});
