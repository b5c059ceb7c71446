import * as z from 'zod/mini';

/**
 * The rollout lifecycle. `idle` → `ramping` ⇄ `paused` → `promoted` → `finalized`, or `aborted`
 * from any live state. Transitions are enforced by the admin commands (src/admin).
 */
export const RolloutStateSchema = z.enum(['idle', 'ramping', 'paused', 'promoted', 'finalized', 'aborted']);

/** One of the lifecycle states. */
export type RolloutState = z.infer<typeof RolloutStateSchema>;
