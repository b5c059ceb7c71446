import type { KillTargets, Since } from './command-arguments';

/** The lifecycle transitions, each a `POST <prefix>/<name>` with an optional reason. */
export const TRANSITIONS = ['promote', 'finalize', 'abort', 'pause', 'resume', 'undo'] as const;

/** One lifecycle transition. */
export type Transition = (typeof TRANSITIONS)[number];

/** A validated command, ready to be sent. */
export type CliCommand =
  | { name: 'status' }
  | { name: 'health' }
  | { name: 'set'; percent: number; reason?: string }
  | { name: Transition; reason?: string }
  | { name: 'flag'; flag: string; enabled: boolean; percent?: number; reason?: string }
  | { name: 'kill'; targets: KillTargets | 'off'; reason?: string }
  | { name: 'audit'; limit: number; cursor?: string; since?: Since };

/** The name of a command. */
export type CommandName = CliCommand['name'];
