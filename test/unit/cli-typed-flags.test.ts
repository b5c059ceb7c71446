import { describe, expect, it } from 'vitest';
import { FlagBodySchema } from '../../src/admin/admin-schemas';
import { parseCommandLine } from '../../cli/command-line';
import { describeTypedFlag } from '../../cli/format-output';
import { TypedFlagSchema } from '../../src/config/flag-schema';

function command(argv: string[]) {
  const parsed = parseCommandLine(argv);
  if (parsed.kind !== 'run') throw new Error(`expected a command, got ${JSON.stringify(parsed)}`);
  return parsed.command;
}

function usageError(argv: string[]): string {
  try {
    parseCommandLine(argv);
  } catch (error) {
    return String((error as Error).message);
  }
  throw new Error('expected a usage error');
}

describe('rollout flag with a typed split', () => {
  it('sends --weights (and --rule) as the PUT /flags/:name weights form', () => {
    const parsed = command([
      'flag',
      'invoiceTemplateVersion',
      'on',
      '--weights',
      'classic=20,modern=80',
      '--rule',
      '1',
    ]);
    expect(parsed).toEqual({
      name: 'flag',
      flag: 'invoiceTemplateVersion',
      enabled: true,
      weights: { rule: 1, split: { classic: 20, modern: 80 } },
    });
    const { name: _name, flag: _flag, ...change } = parsed as Extract<typeof parsed, { name: 'flag' }>;
    expect(FlagBodySchema.safeParse(change).success).toBe(true);
  });

  it.each([
    [['flag', 'x', 'on', '--weights', 'a=50'], 'weights are variant=percent pairs'],
    [['flag', 'x', 'off', '--weights', 'a=50,b=50'], '--weights goes with on, not off'],
    [['flag', 'x', 'on', '--weights', 'a=50,b=50', '--percent', '5'], 'do not go together'],
    [['flag', 'x', 'on', '--rule', '0'], '--rule goes with --weights'],
  ])('refuses %j', (argv, message) => {
    expect(usageError(argv)).toContain(message);
  });

  it('describes a typed flag in the status table', () => {
    const flag = TypedFlagSchema.parse({
      type: 'string',
      variants: { classic: 'v1', modern: 'v2' },
      offVariant: 'classic',
      rules: [{ when: [{ segment: 'employees' }], serve: { variant: 'modern' } }],
      fallthrough: { split: { classic: 50, modern: 50 } },
    });
    expect(describeTypedFlag(flag)).toBe('string, 1 rule, else split classic 50 % / modern 50 %');
  });
});
