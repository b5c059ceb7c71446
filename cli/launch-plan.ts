import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod/mini';
import { ConfigBodySchema } from '../src/admin/admin-schemas';
import { FlagNameSchema, PercentSchema } from '../src/config/config-schema';
import { VariantNameSchema } from '../src/config/flag-schema';
import { describeIssues } from '../src/config/parse-config';
import type { FlagChange } from './admin-client';
import { unknownNameMessage } from './did-you-mean';
import { UsageError } from './errors';

/**
 * The launch plan: one reviewed data file that holds what phase A writes (the launch config:
 * origins, salt, flags in the typed-flags format, segments, business routes, guard thresholds)
 * and what phase C turns on, phase by phase. `scripts/production-deploy.sh`,
 * `npx rollout launch-config` and `scripts/feature-flags.ts` read it; docs/LAUNCH-RUNBOOK.md
 * links to it. Nothing in the plan is code: a launch is changed by a reviewed diff of the file.
 */

/** Where the invoicing example's plan lives, relative to the repository root. */
export const DEFAULT_LAUNCH_FILE = 'docs/examples/invoicing-launch.json';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * One flag's step in a phase, each one `PUT /flags/:name` body on a flag the config declares:
 * - a percent: a boolean flag on for that share of visitors;
 * - `{"enabled": true|false}`: a flag switched as it is (a typed flag serves its rules);
 * - `{"weights": {"split": …, "rule"?}}`: a typed flag on, with new weights for its fallthrough's
 *   (or rule `rule`'s) split.
 * A whole definition belongs in the launch config, not in a step: a step never creates a flag.
 *
 * @example
 * FlagStepSchema.parse(25); // a boolean flag on for 25 %
 * FlagStepSchema.parse({ weights: { split: { on: 25, off: 75 } } });
 */
export const FlagStepSchema = z.union([
  PercentSchema,
  z.strictObject({ enabled: z.boolean() }),
  z.strictObject({
    weights: z.strictObject({
      rule: z.optional(z.int().check(z.gte(0), z.lte(49))),
      split: z.record(VariantNameSchema, PercentSchema),
    }),
  }),
]);

/** One flag's step. */
export type FlagStep = z.infer<typeof FlagStepSchema>;

/** One launch phase: the flags it changes, each with its step, and what to watch while it bakes. */
export const FlagPhaseSchema = z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  flags: z
    .record(FlagNameSchema, FlagStepSchema)
    .check(z.refine((flags) => Object.keys(flags).length > 0, 'a phase changes at least one flag')),
  watch: z.string().check(z.minLength(1), z.maxLength(500)),
});

/** A launch phase. */
export type FlagPhase = z.infer<typeof FlagPhaseSchema>;

/**
 * The file: a description, the config (a `PUT /config` body, without `version`: `If-Match`
 * carries the version), and the phases. Every flag a phase names must be in the config.
 */
export const LaunchPlanSchema = z
  .strictObject({
    description: z.optional(z.string()),
    config: ConfigBodySchema,
    phases: z.array(FlagPhaseSchema).check(z.minLength(1), z.maxLength(50)),
  })
  .check(
    z.superRefine((plan, ctx) => {
      if (plan.config.version !== undefined)
        ctx.addIssue({
          code: 'custom',
          message: 'leave "version" out: the write sends the version it read as If-Match',
          input: plan.config.version,
          path: ['config', 'version'],
        });
      const known = Object.keys(plan.config.flags ?? {});
      plan.phases.forEach((phase, index) => {
        for (const flag of Object.keys(phase.flags)) {
          if (known.includes(flag)) continue;
          ctx.addIssue({
            code: 'custom',
            message: `${unknownNameMessage('flag', flag, known)}; a phase only changes flags the config declares`,
            input: flag,
            path: ['phases', index, 'flags', flag],
          });
        }
      });
    }),
  );

/** A validated launch plan. */
export type LaunchPlan = z.infer<typeof LaunchPlanSchema>;

/** The plan as the file gives it, before defaults. */
export type LaunchPlanInput = z.input<typeof LaunchPlanSchema>;

/**
 * Validates a parsed plan; every problem is one `path: message` line of the UsageError.
 *
 * @example
 * parseLaunchPlan(JSON.parse(text), 'launch.json').phases.length; // 7
 */
export function parseLaunchPlan(json: unknown, source: string): LaunchPlan {
  const result = LaunchPlanSchema.safeParse(json);
  if (!result.success)
    throw new UsageError(
      `${source} is not a valid launch plan:\n  ${describeIssues(result.error).join('\n  ')}`,
    );
  return result.data;
}

/**
 * Reads and validates the plan at `path` (relative paths from the working directory);
 * defaults to the invoicing example. Throws a UsageError naming the file and every problem.
 *
 * @example
 * const plan = readLaunchPlan(); // docs/examples/invoicing-launch.json
 */
export function readLaunchPlan(path?: string): LaunchPlan {
  const file = path ?? join(REPO_ROOT, DEFAULT_LAUNCH_FILE);
  const shown = path ?? DEFAULT_LAUNCH_FILE;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read the launch file ${shown}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${shown} is not JSON: ${(error as Error).message}`);
  }
  return parseLaunchPlan(json, shown);
}

/**
 * The `PUT /flags/:name` body of a step (without the reason). Never `create`: the flag is in the
 * launch config, and a name the Worker's config lacks must fail, not appear.
 *
 * @example
 * stepBody(25); // { enabled: true, percent: 25 }
 * stepBody({ weights: { split: { on: 25, off: 75 } } }); // { enabled: true, weights: { split: … } }
 */
export function stepBody(step: FlagStep): FlagChange {
  if (typeof step === 'number') return { enabled: true, percent: step };
  if ('weights' in step) return { enabled: true, weights: step.weights };
  return { enabled: step.enabled };
}
