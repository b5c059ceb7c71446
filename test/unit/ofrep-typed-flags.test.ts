import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature } from '@openfeature/server-sdk';
import { describe, expect, it } from 'vitest';
import { NO_KILL, RolloutConfigSchema } from '../../src/config/config-schema';
import { evaluateOfrepBulk, evaluateOfrepFlag } from '../../src/ofrep/ofrep-answers';
import { parseOfrepRequest } from '../../src/ofrep/ofrep-request';
import type { ConfigSnapshot } from '../../src/ports';
import { decideVisitor, requestContext } from '../../src/split/decide-visitor';

const snapshot: ConfigSnapshot = {
  source: 'kv',
  kill: NO_KILL,
  config: RolloutConfigSchema.parse({
    version: 3,
    rollout: { percent: 0, salt: 's' },
    segments: {
      employees: { when: [{ attribute: 'email', op: 'endsWith', values: ['@invoicing.example'] }] },
    },
    flags: {
      legacy: { enabled: true, percent: 100 },
      invoiceTemplateVersion: {
        type: 'string',
        variants: { classic: 'v1', modern: 'v2' },
        offVariant: 'classic',
        rules: [{ name: 'staff', when: [{ segment: 'employees' }], serve: { variant: 'modern' } }],
        fallthrough: { split: { classic: 50, modern: 50 } },
      },
      pageSize: {
        type: 'number',
        variants: { small: 20, large: 100 },
        offVariant: 'small',
        rules: [{ when: [{ attribute: 'country', op: 'equals', value: 'DE' }], serve: { variant: 'large' } }],
      },
      banner: {
        type: 'json',
        variants: { none: {}, on: { text: 'hi' } },
        offVariant: 'none',
        enabled: false,
      },
    },
  }),
};

/** The core's OFREP answer for a request body, as the edge route gives it (no cookie, no override). */
function answer(body: string, key?: string): Response {
  const parsed = parseOfrepRequest(body, new Headers(), snapshot.config.stickiness);
  if (!parsed.ok) return Response.json(parsed.error, { status: 400 });
  if (key === undefined) return Response.json(evaluateOfrepBulk(snapshot, parsed.request));
  const result = evaluateOfrepFlag(snapshot, key, parsed.request);
  return result.found ? Response.json(result.evaluation) : Response.json(result.body, { status: 404 });
}

const fetchImplementation = async (input: RequestInfo | URL, init?: RequestInit) => {
  const request = new Request(input, init);
  const key = /\/evaluate\/flags\/([^/]+)$/.exec(new URL(request.url).pathname)?.[1];
  return answer(await request.text(), key && decodeURIComponent(key));
};

describe('OFREP answers for typed flags', () => {
  it('carries the variant name, the typed value and the reason', () => {
    const request = parseOfrepRequest(
      '{"context":{"targetingKey":"abc12345","email":"ada@invoicing.example","country":"DE"}}',
      new Headers(),
      snapshot.config.stickiness,
    );
    if (!request.ok) throw new Error('parse');
    const flags = Object.fromEntries(
      evaluateOfrepBulk(snapshot, request.request).flags.map((f) => [f.key, f]),
    );
    expect(flags.legacy).toMatchObject({ value: true, variant: 'on', reason: 'STATIC' });
    expect(flags.invoiceTemplateVersion).toMatchObject({
      value: 'v2',
      variant: 'modern',
      reason: 'TARGETING_MATCH',
      metadata: { configVersion: 3, rule: 0 },
    });
    expect(flags.pageSize).toMatchObject({ value: 100, variant: 'large', reason: 'TARGETING_MATCH' });
    expect(flags.banner).toMatchObject({ value: {}, variant: 'none', reason: 'DISABLED' });
  });

  it('gives the splitter’s values when the context carries what the request does', () => {
    const headers = new Headers({ cookie: 'rollout_id=visitor-00042' });
    const decision = decideVisitor(headers, snapshot, undefined, { cf: { country: 'DE' } });
    const parsed = parseOfrepRequest('{"context":{"country":"DE"}}', headers, snapshot.config.stickiness);
    if (!parsed.ok) throw new Error('parse');
    const bulk = evaluateOfrepBulk(snapshot, parsed.request);
    expect(Object.fromEntries(bulk.flags.map((f) => [f.key, f.value]))).toEqual(decision.flagValues);
    // Without the country in the context, the request's own attributes fill it in for its own visitor.
    const own = parseOfrepRequest('{}', headers, snapshot.config.stickiness);
    if (!own.ok) throw new Error('parse');
    const filled = evaluateOfrepBulk(snapshot, own.request, {
      requestAttributes: requestContext(own.request.targetingKey, { headers, cf: { country: 'DE' } }),
    });
    expect(Object.fromEntries(filled.flags.map((f) => [f.key, f.value]))).toEqual(decision.flagValues);
  });

  it('reads string, number and object flags through the real OFREP provider, and TYPE_MISMATCH for the wrong type', async () => {
    await OpenFeature.setProviderAndWait(
      'typed-unit',
      new OFREPProvider({ baseUrl: 'http://edge.test', fetchImplementation }),
    );
    const client = OpenFeature.getClient('typed-unit');
    const context = { targetingKey: 'abc12345', email: 'ada@invoicing.example', country: 'DE' };
    expect(await client.getStringDetails('invoiceTemplateVersion', 'none', context)).toMatchObject({
      value: 'v2',
      variant: 'modern',
      reason: 'TARGETING_MATCH',
    });
    expect(await client.getNumberValue('pageSize', 0, context)).toBe(100);
    expect(await client.getNumberValue('pageSize', 0, { targetingKey: 'abc12345' })).toBe(20);
    expect(await client.getObjectValue('banner', { x: 1 }, context)).toEqual({});
    const wrong = await client.getNumberDetails('invoiceTemplateVersion', 7, context);
    expect(wrong).toMatchObject({ value: 7, errorCode: 'TYPE_MISMATCH', reason: 'ERROR' });
    await OpenFeature.clearProviders();
  });
});
