import { describe, expect, it } from 'vitest';
import { applyCommand, type ApplyContext } from '../../src/admin/apply-command';
import { ConfigBodySchema, FlagBodySchema } from '../../src/admin/admin-schemas';
import { RolloutConfigSchema, type RolloutConfig } from '../../src/config/config-schema';
import { describeIssues } from '../../src/config/parse-config';

const context: ApplyContext = {
  now: Date.UTC(2026, 11, 6),
  newSalt: () => 'fresh',
  origins: { stable: 'https://stable.example', canary: 'https://canary.example' },
};

const TEMPLATE = {
  type: 'string',
  variants: { classic: 'v1', modern: 'v2' },
  offVariant: 'classic',
  rules: [{ when: [{ segment: 'employees' }], serve: { variant: 'modern' } }],
  fallthrough: { split: { classic: 50, modern: 50 } },
} as const;

const current: RolloutConfig = RolloutConfigSchema.parse({
  version: 4,
  rollout: { percent: 0, salt: 's' },
  segments: { employees: { when: [{ attribute: 'email', op: 'endsWith', values: ['@invoicing.example'] }] } },
  flags: { templates: { enabled: true, percent: 50 }, invoiceTemplateVersion: TEMPLATE },
});

const body = (input: unknown) => {
  const parsed = FlagBodySchema.safeParse(input);
  if (!parsed.success) throw new Error(describeIssues(parsed.error).join('; '));
  return parsed.data;
};
const setFlag = (name: string, input: unknown) => {
  const { reason: _reason, ...change } = body(input);
  return applyCommand(current, { type: 'set-flag', name, ...change }, context);
};

describe('PUT /flags/:name bodies', () => {
  it('keeps {"enabled", "percent"} for boolean flags', () => {
    const result = setFlag('templates', { enabled: true, percent: 25 });
    expect(result.ok && result.config.flags.templates).toEqual({
      enabled: true,
      percent: 25,
      default: false,
    });
  });

  it('changes the fallthrough split of a typed flag with "weights", or one rule by index', () => {
    const fallthrough = setFlag('invoiceTemplateVersion', {
      weights: { split: { classic: 20, modern: 80 } },
    });
    expect(fallthrough.ok && fallthrough.config.flags.invoiceTemplateVersion).toMatchObject({
      fallthrough: { split: { classic: 20, modern: 80 } },
      rules: TEMPLATE.rules,
    });
    const rule = setFlag('invoiceTemplateVersion', {
      weights: { rule: 0, split: { classic: 10, modern: 90 } },
    });
    expect(rule.ok && rule.config.flags.invoiceTemplateVersion).toMatchObject({
      rules: [{ serve: { split: { classic: 10, modern: 90 } } }],
    });
  });

  it('creates a typed flag from its whole definition', () => {
    const result = applyCommand(
      current,
      {
        type: 'set-flag',
        name: 'pageSize',
        create: true,
        ...body({ flag: { type: 'number', variants: { s: 20, l: 100 }, offVariant: 's' } }),
      },
      context,
    );
    expect(result.ok && result.config.flags.pageSize).toMatchObject({
      type: 'number',
      offVariant: 's',
      enabled: true,
    });
  });

  it.each([
    [
      'weights that do not sum to 100 %',
      'invoiceTemplateVersion',
      { weights: { split: { classic: 20, modern: 70 } } },
      'flags.invoiceTemplateVersion.fallthrough.split: weights must sum to 100 % (they sum to 90 %)',
    ],
    [
      'a percent on a typed flag',
      'invoiceTemplateVersion',
      { enabled: true, percent: 30 },
      'flags.invoiceTemplateVersion.percent: "invoiceTemplateVersion" is a typed flag; change its split with "weights"',
    ],
    [
      'weights on a boolean flag',
      'templates',
      { weights: { split: { on: 50, off: 50 } } },
      'flags.templates: a boolean flag has no variants to weigh; send "percent" (or a typed definition as "flag")',
    ],
    [
      'a rule that does not exist',
      'invoiceTemplateVersion',
      { weights: { rule: 3, split: { classic: 50, modern: 50 } } },
      'flags.invoiceTemplateVersion.rules.3: "invoiceTemplateVersion" has 1 rules',
    ],
    [
      'a variant of the wrong type',
      'invoiceTemplateVersion',
      { flag: { ...TEMPLATE, variants: { classic: 'v1', modern: 2 } } },
      'flags.invoiceTemplateVersion.variants.modern: variant "modern" of a string flag must be a string',
    ],
  ])('refuses %s with a 400 naming the path, and changes nothing', (_, name, input, issue) => {
    const before = JSON.stringify(current);
    const result = setFlag(name, input);
    expect(result).toMatchObject({ ok: false, status: 400 });
    expect(!result.ok && result.issues).toContain(issue);
    expect(JSON.stringify(current)).toBe(before);
  });

  it('refuses a body that mixes the forms', () => {
    expect(FlagBodySchema.safeParse({ flag: TEMPLATE, enabled: true }).success).toBe(false);
    expect(FlagBodySchema.safeParse({ weights: { split: { a: 100 } }, percent: 5 }).success).toBe(false);
    expect(FlagBodySchema.safeParse({ reason: 'x' }).success).toBe(false);
  });

  it('checks a whole config body the same way (PUT /config)', () => {
    const { version: _version, ...rest } = current;
    const bad = { ...rest, segments: {} };
    const parsed = ConfigBodySchema.safeParse(bad);
    expect(parsed.success).toBe(false);
    expect(describeIssues(parsed.error!)).toContain(
      'flags.invoiceTemplateVersion.rules.0.when.0.segment: unknown segment "employees" (segments: none)',
    );
  });
});
