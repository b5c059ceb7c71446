import { GrowthBookClient } from '@growthbook/growthbook';
import { describe, expect, it } from 'vitest';
import {
  NO_KILL,
  parseConfig,
  parseKillSwitch,
  RolloutConfigSchema,
  type RolloutConfig,
  type RolloutConfigInput,
} from '../../src/config/config-schema';
import type { Clause } from '../../src/config/flag-schema';
import { requestContext } from '../../src/split/decide-visitor';
import { bucket } from '../../src/split/bucket';
import { evaluateConfigFlags, flagValues } from '../../src/split/evaluate-flags';
import { compileClause, contextAttributes } from '../../src/split/flag-conditions';
import { seededVisitorIds } from '../support/fixtures/seeded-random';
import operatorVectors from './flag-operator-vectors.json';
import demoConfig from '../../scripts/demo/demo-config.json';

const ROLLOUT = { percent: 0, salt: 's1' };
const config = (input: Omit<RolloutConfigInput, 'version' | 'rollout'>): RolloutConfig =>
  RolloutConfigSchema.parse({ version: 1, rollout: ROLLOUT, ...input });
const issuesOf = (input: Omit<RolloutConfigInput, 'version' | 'rollout'>): string[] => {
  const result = parseConfig({ version: 1, rollout: ROLLOUT, ...input });
  return result.ok ? [] : result.issues;
};
const visitors = seededVisitorIds(20261206, 10_000);

// The invoicing launch's segments and flags, as docs/FLAGS.md writes them.
const SEGMENTS = {
  employees: { when: [{ attribute: 'email', op: 'endsWith', values: ['@invoicing.example'] }] },
  'beta-customers': { when: [{ attribute: 'cookie.plan', op: 'in', values: ['beta', 'beta-pro'] }] },
} as const;
const launch = config({
  segments: SEGMENTS,
  flags: {
    emailDelivery: {
      type: 'boolean',
      variants: { on: true, off: false },
      offVariant: 'off',
      rules: [
        { name: 'employees first', when: [{ segment: 'employees' }], serve: { variant: 'on' } },
        { name: 'then beta', when: [{ segment: 'beta-customers' }], serve: { variant: 'on' } },
      ],
      fallthrough: { split: { on: 25, off: 75 } },
    },
    invoiceTemplateVersion: {
      type: 'string',
      variants: { classic: 'v1', modern: 'v2' },
      offVariant: 'classic',
      prerequisites: [{ flag: 'emailDelivery', variants: ['on'] }],
      rules: [
        { when: [{ attribute: 'country', op: 'in', values: ['DE', 'AT'] }], serve: { variant: 'modern' } },
      ],
      fallthrough: { split: { classic: 50, modern: 50 } },
    },
    pageSize: {
      type: 'number',
      variants: { small: 20, large: 100 },
      offVariant: 'small',
      rules: [
        { when: [{ attribute: 'header.x-plan', op: 'equals', value: 'pro' }], serve: { variant: 'large' } },
      ],
    },
    banner: {
      type: 'json',
      variants: { none: {}, launch: { text: 'New: email delivery', tone: 'info' } },
      offVariant: 'none',
      rules: [
        {
          when: [
            {
              any: [{ attribute: 'path', op: 'startsWith', values: ['/invoices'] }, { segment: 'employees' }],
            },
          ],
          serve: { variant: 'launch' },
        },
      ],
    },
  },
});
const employee = (id = 'visitor-0001') =>
  contextAttributes(id, { email: 'ada@invoicing.example', country: 'DE' });

describe('operators (test vectors in flag-operator-vectors.json)', () => {
  it.each(operatorVectors.vectors as [Clause['op'], unknown, string | number | null, boolean][])(
    '%s %j against %j is %s',
    (op, operand, value, expected) => {
      const clause = {
        attribute: 'a',
        op,
        ...(operand === null ? {} : Array.isArray(operand) ? { values: operand } : { value: operand }),
      } as Clause;
      expect(compileClause(clause)(value ?? undefined)).toBe(expected);
    },
  );
});

describe('typed flags: rules, segments, prerequisites, kills, types', () => {
  it('serves the first matching rule, with its index and TARGETING_MATCH', () => {
    const results = evaluateConfigFlags(launch, employee(), NO_KILL);
    expect(results.emailDelivery).toEqual({ value: true, reason: 'TARGETING_MATCH', variant: 'on', rule: 0 });
    // Both rules of banner's `any` hold for an employee on /invoices; the first rule is the one served.
    expect(results.banner).toMatchObject({ variant: 'launch', rule: 0, value: { tone: 'info' } });
    // The second rule (beta) answers for a beta customer who is not an employee.
    const beta = contextAttributes('visitor-0002', { 'cookie.plan': 'beta' });
    expect(evaluateConfigFlags(launch, beta, NO_KILL).emailDelivery).toMatchObject({ rule: 1 });
  });

  it('falls through to a sticky 25/75 split (SPLIT) for everyone else, on the flag seed', () => {
    let on = 0;
    for (const id of visitors) {
      const result = evaluateConfigFlags(launch, id, NO_KILL).emailDelivery!;
      expect(result.reason).toBe('SPLIT');
      expect(result.value).toBe(bucket('emailDelivery', id) < 2500);
      if (result.value) on++;
    }
    expect(on).toBe(2444); // seed 20261206
  });

  it('gives typed values: string, number and JSON, each from its variant', () => {
    const facts = { headers: new Headers({ 'x-plan': 'pro' }), path: '/invoices/7', cf: { country: 'DE' } };
    const results = evaluateConfigFlags(launch, requestContext('visitor-0003', facts), NO_KILL);
    expect(results.pageSize).toEqual({ value: 100, reason: 'TARGETING_MATCH', variant: 'large', rule: 0 });
    expect(results.banner!.value).toEqual({ text: 'New: email delivery', tone: 'info' });
    const plain = evaluateConfigFlags(launch, 'visitor-0003', NO_KILL);
    expect(plain.pageSize).toEqual({ value: 20, reason: 'DEFAULT', variant: 'small' });
    expect(plain.banner).toEqual({ value: {}, reason: 'DEFAULT', variant: 'none' });
  });

  it('evaluates a flag only when its prerequisite serves a listed variant', () => {
    // An employee has emailDelivery on, so the template rule (DE) applies.
    expect(evaluateConfigFlags(launch, employee(), NO_KILL).invoiceTemplateVersion).toMatchObject({
      value: 'v2',
      reason: 'TARGETING_MATCH',
    });
    // Without emailDelivery the template flag serves its off variant.
    const off = visitors.find((id) => bucket('emailDelivery', id) >= 2500)!;
    expect(
      evaluateConfigFlags(launch, contextAttributes(off, { country: 'DE' }), NO_KILL).invoiceTemplateVersion,
    ).toEqual({ value: 'v1', reason: 'PREREQUISITE_FAILED', variant: 'classic' });
  });

  it('serves the off variant when killed (KILLED), also through a prerequisite, and when disabled (DISABLED)', () => {
    const killed = evaluateConfigFlags(launch, employee(), parseKillSwitch('flag:emailDelivery'));
    expect(killed.emailDelivery).toEqual({ value: false, reason: 'KILLED', variant: 'off' });
    expect(killed.invoiceTemplateVersion).toMatchObject({
      variant: 'classic',
      reason: 'PREREQUISITE_FAILED',
    });
    expect(evaluateConfigFlags(launch, employee(), parseKillSwitch('flags')).banner).toEqual({
      value: {},
      reason: 'KILLED',
      variant: 'none',
    });
    const disabled = config({
      segments: SEGMENTS,
      flags: { ...launch.flags, pageSize: { ...launch.flags.pageSize!, enabled: false } },
    });
    const headers = new Headers({ 'x-plan': 'pro' });
    expect(evaluateConfigFlags(disabled, requestContext('v-0004', { headers }), NO_KILL).pageSize).toEqual({
      value: 20,
      reason: 'DISABLED',
      variant: 'small',
    });
  });

  it('reads notSegment, and a segment test never matches a visitor without the attribute', () => {
    const flags = {
      outsiders: {
        type: 'boolean' as const,
        variants: { on: true, off: false },
        offVariant: 'off',
        rules: [{ when: [{ notSegment: 'employees' }], serve: { variant: 'on' } }],
      },
    };
    const withSegments = config({ segments: SEGMENTS, flags });
    expect(evaluateConfigFlags(withSegments, employee(), NO_KILL).outsiders!.value).toBe(false);
    expect(
      evaluateConfigFlags(withSegments, contextAttributes('x-00001', { email: 'bob@else.example' }), NO_KILL)
        .outsiders!.value,
    ).toBe(true);
  });

  it('lets a split rule whose coverage leaves the visitor out fall through to the next rule', () => {
    const partial = config({
      flags: {
        color: {
          type: 'string',
          variants: { red: 'red', blue: 'blue', grey: 'grey' },
          offVariant: 'grey',
          rules: [{ serve: { split: { red: 50, blue: 50 }, coverage: 10 } }, { serve: { variant: 'grey' } }],
        },
      },
    });
    let inSplit = 0;
    for (const id of visitors) {
      const result = evaluateConfigFlags(partial, id, NO_KILL).color!;
      if (result.reason === 'SPLIT') inSplit++;
      else expect(result).toEqual({ value: 'grey', reason: 'TARGETING_MATCH', variant: 'grey', rule: 1 });
    }
    // As GrowthBook's ranges: each variant keeps the first 10 % of its own range, [0, 5) and [50, 55) %.
    const covered = (b: number) => b < 500 || (b >= 5000 && b < 5500);
    expect(inSplit).toBe(visitors.filter((id) => covered(bucket('color', id))).length);
    expect(inSplit).toBe(1009); // seed 20261206
  });
});

describe('the request and an OFREP context give the same answer for the same values', () => {
  it('agrees for every flag over seeded visitors', () => {
    for (const id of visitors.slice(0, 2000)) {
      const country = id.charCodeAt(id.length - 1) % 2 ? 'DE' : 'US';
      const facts = {
        headers: new Headers({ 'x-plan': 'pro', cookie: 'plan=beta' }),
        path: '/invoices',
        method: 'GET',
        cf: { country, continent: 'EU', colo: 'FRA' },
        email: 'ada@invoicing.example',
      };
      const context = {
        country,
        continent: 'EU',
        colo: 'FRA',
        path: '/invoices',
        method: 'GET',
        email: 'ada@invoicing.example',
        'header.x-plan': 'pro',
        'cookie.plan': 'beta',
      };
      expect(flagValues(evaluateConfigFlags(launch, requestContext(id, facts), NO_KILL))).toEqual(
        flagValues(evaluateConfigFlags(launch, contextAttributes(id, context), NO_KILL)),
      );
    }
  });

  it('reads email only when the edge passes a verified one, never from a header', () => {
    const headers = new Headers({
      email: 'ada@invoicing.example',
      'cf-access-authenticated-user-email': 'ada@invoicing.example',
    });
    const forged = evaluateConfigFlags(launch, requestContext('visitor-0009', { headers }), NO_KILL);
    expect(forged.banner!.variant).toBe('none');
    const verified = requestContext('visitor-0009', { headers, email: 'ada@invoicing.example' });
    expect(evaluateConfigFlags(launch, verified, NO_KILL).banner!.variant).toBe('launch');
  });
});

describe('a weighted split assigns the variant GrowthBook does (hash v2, same seed, weights, coverage)', () => {
  const cases: [string, Record<string, number>, number][] = [
    ['two-way', { a: 50, b: 50 }, 100],
    ['two-way uneven', { a: 10.5, b: 89.5 }, 100],
    ['three-way', { a: 33.33, b: 33.33, c: 33.34 }, 100],
    ['four-way with coverage', { a: 10, b: 20, c: 30, d: 40 }, 80],
  ];
  it.each(cases)('%s: 10,000 seeded ids', (_, split, coverage) => {
    const names = Object.keys(split);
    const ours = config({
      flags: {
        exp: {
          type: 'string',
          variants: { ...Object.fromEntries(names.map((n) => [n, n])), none: 'none' },
          offVariant: 'none',
          seed: 'exp-seed-7',
          rules: [{ serve: { split, coverage } }],
        },
      },
    });
    const growthbook = new GrowthBookClient().initSync({
      payload: {
        features: {
          exp: {
            defaultValue: 'none',
            rules: [
              {
                key: 'exp',
                seed: 'exp-seed-7',
                hashVersion: 2,
                hashAttribute: 'id',
                variations: names,
                weights: names.map((n) => split[n]! / 100),
                coverage: coverage / 100,
              },
            ],
          },
        },
      },
    });
    const counts: Record<string, number> = {};
    for (const id of visitors) {
      const value = evaluateConfigFlags(ours, id, NO_KILL).exp!.value as string;
      expect(value).toBe(growthbook.getFeatureValue('exp', 'none', { attributes: { id } }));
      counts[value] = (counts[value] ?? 0) + 1;
    }
    // Every variant is served: the comparison covers each range, not one.
    expect(Object.keys(counts).sort()).toEqual(coverage < 100 ? [...names, 'none'].sort() : names.sort());
  });
});

describe("today's boolean flags read and evaluate unchanged", () => {
  it('parses the demo config and keeps its flags as written', () => {
    const parsed = parseConfig(demoConfig);
    expect(parsed.ok && parsed.config.flags).toEqual(
      Object.fromEntries(
        Object.entries(demoConfig.flags as Record<string, object>).map(([name, flag]) => [
          name,
          { percent: 100, default: false, ...flag },
        ]),
      ),
    );
  });

  it('gives every boolean flag the value of the v1 rule: bucket < percent × 100, else default', () => {
    const mixed = config({
      segments: SEGMENTS,
      flags: {
        legacy: { enabled: true, percent: 37.5, default: false },
        legacyDefaultOn: { enabled: true, percent: 10, default: true, seed: 'other' },
        typed: launch.flags.pageSize!,
      },
    });
    for (const id of visitors.slice(0, 3000)) {
      const results = evaluateConfigFlags(mixed, id, NO_KILL);
      expect(results.legacy!.value).toBe(bucket('legacy', id) < 3750);
      expect(results.legacyDefaultOn!.value).toBe(true);
      expect(results.legacy!.variant).toBe(results.legacy!.value ? 'on' : 'off');
    }
  });
});

describe('validation names the path of each bad flag config', () => {
  const typed = (over: Record<string, unknown>) => ({
    type: 'string',
    variants: { a: 'A', b: 'B' },
    offVariant: 'a',
    ...over,
  });
  it.each([
    [
      'an unknown segment',
      { flags: { f: typed({ rules: [{ when: [{ segment: 'staff' }], serve: { variant: 'b' } }] }) } },
      'flags.f.rules.0.when.0.segment: unknown segment "staff" (segments: none)',
    ],
    [
      'a variant of the wrong type',
      { flags: { f: typed({ variants: { a: 'A', b: 2 } }) } },
      'flags.f.variants.b: variant "b" of a string flag must be a string',
    ],
    [
      'weights that do not sum to 100 %',
      { flags: { f: typed({ fallthrough: { split: { a: 50, b: 40 } } }) } },
      'flags.f.fallthrough.split: weights must sum to 100 % (they sum to 90 %)',
    ],
    [
      'a prerequisite cycle',
      {
        flags: {
          f: typed({ prerequisites: [{ flag: 'g', variants: ['a'] }] }),
          g: typed({ prerequisites: [{ flag: 'f', variants: ['a'] }] }),
        },
      },
      'flags.g.prerequisites.0.flag: prerequisite cycle: f → g → f',
    ],
    [
      'an unknown variant',
      { flags: { f: typed({ offVariant: 'z' }) } },
      'flags.f.offVariant: unknown variant "z" (variants: a, b)',
    ],
    [
      'a segment that references a segment',
      { segments: { s: { when: [{ segment: 't' }] }, t: { when: [{ attribute: 'id', op: 'exists' }] } } },
      'segments.s.when.0.segment: a segment cannot reference another segment',
    ],
    [
      'a clause without its operand',
      {
        flags: {
          f: typed({ rules: [{ when: [{ attribute: 'country', op: 'in' }], serve: { variant: 'b' } }] }),
        },
      },
      'flags.f.rules.0.when.0.op: in needs "values"',
    ],
    [
      'more than 50 rules',
      { flags: { f: typed({ rules: Array.from({ length: 51 }, () => ({ serve: { variant: 'a' } })) }) } },
      'flags.f.rules: at most 50 rules a flag',
    ],
    [
      'more than 100 segments',
      {
        segments: Object.fromEntries(
          Array.from({ length: 101 }, (_, i) => [`s${i}`, { when: [{ attribute: 'id', op: 'exists' }] }]),
        ),
      },
      'segments: at most 100 segments (101 given)',
    ],
    [
      'more than 200 flags',
      { flags: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`f${i}`, { enabled: true }])) },
      'flags: at most 200 flags (201 given)',
    ],
  ])('%s', (_, input, issue) => {
    expect(issuesOf(input as never)).toContain(issue);
  });

  it('refuses a config whose x-feature-flags could exceed 4 KiB, naming the largest flags', () => {
    const big = {
      type: 'json',
      variants: { small: {}, big: { text: 'x'.repeat(3000) } },
      offVariant: 'small',
    };
    const issues = issuesOf({ flags: { small: { enabled: true }, bigOne: big, bigTwo: big } });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(
      /^flags: x-feature-flags could reach 60\d\d bytes .* largest: bigOne, bigTwo, small$/,
    );
    // One such flag fits.
    expect(issuesOf({ flags: { small: { enabled: true }, bigOne: big } })).toEqual([]);
  });

  it('refuses a config over 1 MiB of JSON', () => {
    const long = 'x'.repeat(500);
    const segments = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [
        `s${i}`,
        {
          description: long,
          when: Array.from({ length: 50 }, () => ({
            attribute: 'id',
            op: 'in',
            values: Array.from({ length: 10 }, () => 'y'.repeat(256)),
          })),
        },
      ]),
    );
    expect(issuesOf({ segments }).some((issue) => /the limit is 1048576 \(1 MiB\)/.test(issue))).toBe(true);
  });
});
