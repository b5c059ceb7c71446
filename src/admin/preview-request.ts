import * as z from 'zod/mini';
import {
  FlagNameSchema,
  PercentSchema,
  RolloutConfigSchema,
  type RolloutConfig,
} from '../config/config-schema';
import type { ControlCommand } from './apply-command';
import { TRANSITIONS } from './lifecycle';

/**
 * The `POST /preview` request: its body, and the write (a control command) the body stands for.
 * What that write would move is computed in preview.ts.
 */

/**
 * `POST /preview`: one proposed change, in the words of the write it previews. `salt` replaces
 * the rollout's salt (a whole-config write); `kill` is what `PUT /kill` would set (`"off"`:
 * what `DELETE /kill` would do).
 *
 * @example
 * PreviewBodySchema.parse({ percent: 25 });
 * PreviewBodySchema.parse({ flag: 'templates', enabled: true, percent: 50 });
 * PreviewBodySchema.parse({ transition: 'abort' });
 * PreviewBodySchema.parse({ kill: { canary: true } });
 */
export const PreviewBodySchema = z.union([
  z.strictObject({ percent: PercentSchema }),
  z.strictObject({ salt: RolloutConfigSchema.shape.rollout.shape.salt }),
  z.strictObject({
    flag: FlagNameSchema,
    enabled: z.boolean(),
    percent: z.optional(PercentSchema),
    create: z.optional(z.boolean()),
  }),
  z.strictObject({ transition: z.enum(TRANSITIONS) }),
  z.strictObject({
    kill: z.union([
      z.literal('off'),
      z
        .strictObject({
          canary: z.optional(z.boolean()),
          allFlags: z.optional(z.boolean()),
          flags: z.optional(z.array(FlagNameSchema).check(z.maxLength(200))),
        })
        .check(
          z.refine(
            (k) => k.canary === true || k.allFlags === true || (k.flags?.length ?? 0) > 0,
            'kill at least one thing: canary: true, allFlags: true or a flag name ("off" lifts it)',
          ),
        ),
    ]),
  }),
  z.strictObject({ config: z.record(z.string(), z.unknown()) }),
]);

/** A validated `POST /preview` body. */
export type PreviewBody = z.infer<typeof PreviewBodySchema>;

/**
 * The command a preview body stands for, run as a dry run of the write it previews. A new salt
 * is a whole-config write of the current config with that salt.
 *
 * @example
 * previewCommand({ percent: 25 }); // { type: 'set-percent', percent: 25 }
 * previewCommand({ salt: 'launch-2' }, current); // { type: 'replace-config', config: { ...current, rollout: { ..., salt: 'launch-2' } } }
 */
export function previewCommand(body: PreviewBody, current?: RolloutConfig): ControlCommand {
  if ('percent' in body && !('flag' in body)) return { type: 'set-percent', percent: body.percent };
  if ('salt' in body) {
    if (!current) throw new Error('previewCommand: a new salt needs the current config');
    const { version: _version, ...config } = current;
    return { type: 'replace-config', config: { ...config, rollout: { ...config.rollout, salt: body.salt } } };
  }
  if ('flag' in body) {
    const { flag, ...change } = body;
    return { type: 'set-flag', name: flag, ...change };
  }
  if ('transition' in body) return { type: body.transition };
  if ('kill' in body) return body.kill === 'off' ? { type: 'unkill' } : { type: 'kill', request: body.kill };
  return { type: 'replace-config', config: body.config };
}
