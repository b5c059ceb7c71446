/**
 * A change to the rollout, as the admin API, the CLI and the Cron guard express it. Every command
 * goes through the one execution path (worker/admin/execute-command.ts), so each one is validated,
 * versioned, kept in history and audited the same way whoever sent it.
 *
 * @example
 * const command: AdminCommand = { type: 'set-percent', percent: 10 };
 */
export type AdminCommand =
  | { type: 'set-percent'; percent: number }
  | { type: 'replace-config'; config: unknown }
  | { type: 'set-flag'; name: string; enabled: boolean; percent?: number }
  | { type: 'promote' }
  | { type: 'finalize' }
  | { type: 'abort'; reason?: string }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'undo' };

/** The `type` of an {@link AdminCommand}; also the `action` of its audit entry. */
export type AdminCommandType = AdminCommand['type'];
