import { describe, expect, it } from 'vitest';
import {
  NO_KILL,
  parseKillSwitch,
  RolloutConfigSchema,
  type RolloutConfigInput,
} from '../../src/config/config-schema';
import {
  evaluateOfrepBulk,
  evaluateOfrepFlag,
  ifNoneMatchNames,
  ofrepEtag,
} from '../../src/ofrep/ofrep-answers';
import type { OfrepRequest } from '../../src/ofrep/ofrep-request';
import type { ConfigSnapshot } from '../../src/ports';
import { bucket, inPercent } from '../../src/split/bucket';
import { decideVisitor } from '../../src/split/decide-visitor';
import { seededVisitorIds } from '../support/fixtures/seeded-random';

const CONFIG = {
  version: 7,
  rollout: { percent: 30, salt: 'launch-1', state: 'ramping' },
  flags: {
    fileStorage: { enabled: true, percent: 50 },
    templates: { enabled: true, percent: 25, seed: 'templates-v1', default: true },
    emailDelivery: { enabled: false, default: true },
    analytics: { enabled: true, percent: 100 },
  },
} satisfies RolloutConfigInput;

function snapshot(config: RolloutConfigInput = CONFIG, kill = NO_KILL): ConfigSnapshot {
  return { config: RolloutConfigSchema.parse(config), kill, source: 'kv' };
}

function request(targetingKey: string, includeCohort = false): OfrepRequest {
  return { targetingKey, keySource: 'context', includeCohort, context: {} };
}

const visitorIds = (count: number) => seededVisitorIds(15, count);

describe('OFREP answers: the splitter evaluation, in OpenFeature terms', () => {
  it('gives every visitor the values the splitter sends in x-feature-flags (1000 visitors × 4 flags)', () => {
    const snap = snapshot();
    let split = 0;
    for (const id of visitorIds(1000)) {
      const proxy = decideVisitor(new Headers({ cookie: `rollout_id=${id}` }), snap);
      expect(proxy.setCookie).toBeUndefined();
      const bulk = evaluateOfrepBulk(snap, request(id));
      expect(Object.fromEntries(bulk.flags.map((f) => [f.key, f.value]))).toEqual(proxy.flagValues);
      for (const name of Object.keys(proxy.flagValues)) {
        const single = evaluateOfrepFlag(snap, name, request(id));
        expect(single.found && single.evaluation).toEqual(bulk.flags.find((f) => f.key === name));
      }
      // The bucketing contract itself, not only agreement: fileStorage splits on its name.
      expect(proxy.flagValues.fileStorage).toBe(inPercent(bucket('fileStorage', id), 50));
      if (bulk.flags[0]!.reason === 'SPLIT') split++;
    }
    // Both sides of a 50 % split were exercised (exact count for this fixed id set).
    expect(split).toBe(517);
  });

  it('maps reasons and variants: SPLIT/DEFAULT for percentages, STATIC at 100 %, DISABLED with the default value', () => {
    const snap = snapshot();
    const ids = visitorIds(200);
    const inside = ids.find((id) => bucket('templates-v1', id) < 2500)!;
    const outside = ids.find((id) => bucket('templates-v1', id) >= 2500)!;
    expect(evaluateOfrepFlag(snap, 'templates', request(inside))).toEqual({
      found: true,
      evaluation: {
        key: 'templates',
        value: true,
        reason: 'SPLIT',
        variant: 'on',
        metadata: { configVersion: 7 },
      },
    });
    // Outside the split: the flag's default (true here), as OpenFeature's DEFAULT says.
    expect(evaluateOfrepFlag(snap, 'templates', request(outside))).toMatchObject({
      evaluation: { value: true, reason: 'DEFAULT', variant: 'on' },
    });
    expect(evaluateOfrepFlag(snap, 'analytics', request(outside))).toMatchObject({
      evaluation: { value: true, reason: 'STATIC', variant: 'on' },
    });
    expect(evaluateOfrepFlag(snap, 'emailDelivery', request(outside))).toMatchObject({
      evaluation: { value: true, reason: 'DISABLED', variant: 'on' },
    });
  });

  it('reports a killed flag as DISABLED and off, like the proxy, with killed in the metadata', () => {
    const snap = snapshot(CONFIG, parseKillSwitch('flag:analytics'));
    const id = visitorIds(1)[0]!;
    expect(evaluateOfrepFlag(snap, 'analytics', request(id))).toEqual({
      found: true,
      evaluation: {
        key: 'analytics',
        value: false,
        reason: 'DISABLED',
        variant: 'off',
        metadata: { configVersion: 7, killed: true },
      },
    });
    expect(decideVisitor(new Headers({ cookie: `rollout_id=${id}` }), snap).flagValues.analytics).toBe(false);
    const all = evaluateOfrepBulk(snapshot(CONFIG, parseKillSwitch('flags')), request(id));
    expect(all.flags.every((f) => f.value === false && f.reason === 'DISABLED')).toBe(true);
  });

  it('answers FLAG_NOT_FOUND for names the config does not have, including Object.prototype members', () => {
    const snap = snapshot();
    for (const key of ['unknown', 'constructor', 'toString', '__proto__', 'hasOwnProperty', ''])
      expect(evaluateOfrepFlag(snap, key, request('visitor-0001')), key).toEqual({
        found: false,
        body: { key, errorCode: 'FLAG_NOT_FOUND', errorDetails: `no flag named ${JSON.stringify(key)}` },
      });
  });

  it('adds the routing cohort to the metadata when asked, decided like the splitter (percent, kill, override)', () => {
    const snap = snapshot();
    for (const id of visitorIds(300)) {
      const proxy = decideVisitor(new Headers({ cookie: `rollout_id=${id}` }), snap);
      expect(evaluateOfrepBulk(snap, request(id, true)).metadata).toEqual({
        configVersion: 7,
        cohort: proxy.assignment.cohort,
      });
    }
    const id = visitorIds(1)[0]!;
    expect(
      evaluateOfrepBulk(snapshot(CONFIG, parseKillSwitch('canary')), request(id, true)).metadata.cohort,
    ).toBe('stable');
    expect(
      evaluateOfrepFlag(
        snapshot({ ...CONFIG, rollout: { ...CONFIG.rollout, percent: 0 } }),
        'analytics',
        request(id, true),
        {
          override: 'canary',
        },
      ),
    ).toMatchObject({ evaluation: { metadata: { cohort: 'canary' } } });
    expect(evaluateOfrepBulk(snap, request(id)).metadata).toEqual({ configVersion: 7 });
  });

  it('lists every flag of the config in its order, and none when there are none', () => {
    expect(evaluateOfrepBulk(snapshot(), request('visitor-0001')).flags.map((f) => f.key)).toEqual([
      'fileStorage',
      'templates',
      'emailDelivery',
      'analytics',
    ]);
    expect(evaluateOfrepBulk(snapshot({ ...CONFIG, flags: {} }), request('visitor-0001'))).toEqual({
      flags: [],
      metadata: { configVersion: 7 },
    });
  });
});

describe('OFREP bulk ETag', () => {
  async function tagFor(snap: ConfigSnapshot, id: string, includeCohort = false): Promise<string> {
    return ofrepEtag(id, JSON.stringify(evaluateOfrepBulk(snap, request(id, includeCohort))));
  }

  it('is stable for the same context and config, and looks like a strong entity tag', async () => {
    const tag = await tagFor(snapshot(), 'visitor-0001');
    expect(tag).toMatch(/^"ofrep-[A-Za-z0-9_-]{22}"$/);
    expect(await tagFor(snapshot(), 'visitor-0001')).toBe(tag);
  });

  it('changes with the config version, a kill switch that changes an answer, a value change and the cohort asked for', async () => {
    const id = visitorIds(1)[0]!;
    const base = await tagFor(snapshot(), id);
    const changed = [
      await tagFor(snapshot({ ...CONFIG, version: 8 }), id),
      await tagFor(snapshot(CONFIG, parseKillSwitch('flag:analytics')), id),
      await tagFor(snapshot({ ...CONFIG, flags: { ...CONFIG.flags, analytics: { enabled: false } } }), id),
      await tagFor(snapshot(), id, true),
    ];
    expect(new Set([base, ...changed]).size).toBe(5);
    // Killing the canary changes the cohort: the tag of a context that asked for it moves too.
    expect(await tagFor(snapshot(CONFIG, parseKillSwitch('canary')), id, true)).not.toBe(
      await tagFor(snapshot({ ...CONFIG, rollout: { ...CONFIG.rollout, percent: 100 } }), id, true),
    );
  });

  it('is never shared by two contexts, even when their answers are the same (500 visitors)', async () => {
    const snap = snapshot();
    const ids = visitorIds(500);
    const tags = await Promise.all(ids.map((id) => tagFor(snap, id)));
    expect(new Set(tags).size).toBe(ids.length);
    const bodies = new Set(ids.map((id) => JSON.stringify(evaluateOfrepBulk(snap, request(id)))));
    // Many visitors do share answers (4 boolean flags): the key is what keeps their tags apart.
    expect(bodies.size).toBeLessThan(20);
  });

  it('cannot be forged by moving characters between the key and the body', async () => {
    expect(await ofrepEtag('ab', 'c')).not.toBe(await ofrepEtag('a', 'bc'));
    expect(await ofrepEtag('a\n', 'b')).not.toBe(await ofrepEtag('a', '\nb'));
  });

  it('If-None-Match matches by weak comparison, in lists', () => {
    const tag = '"ofrep-abc"';
    expect(ifNoneMatchNames(tag, tag)).toBe(true);
    expect(ifNoneMatchNames(`W/${tag}`, tag)).toBe(true);
    expect(ifNoneMatchNames(`"other", ${tag}`, tag)).toBe(true);
    expect(ifNoneMatchNames(null, tag)).toBe(false);
    expect(ifNoneMatchNames('', tag)).toBe(false);
    expect(ifNoneMatchNames('"ofrep-abd"', tag)).toBe(false);
    expect(ifNoneMatchNames('ofrep-abc', tag)).toBe(false);
  });

  it('If-None-Match: * names no tag: a POST evaluation is answered with its body, never 304', () => {
    const tag = '"ofrep-abc"';
    for (const header of ['*', ' * ', 'W/*', `*, "other"`])
      expect(ifNoneMatchNames(header, tag), header).toBe(false);
    // A list that also names the tag still matches by that tag.
    expect(ifNoneMatchNames(`*, ${tag}`, tag)).toBe(true);
  });
});
