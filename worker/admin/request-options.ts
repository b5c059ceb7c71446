import type { Context } from 'hono';
import { IfMatchSchema } from '../../src/admin/admin-bodies';
import { describeIssues } from '../../src/config/describe-issues';
import type { AdminEnv } from './admin-env';
import { AdminError } from './admin-error';
import type { CommandOptions } from './command-context';

/**
 * The command options of an admin write: the authenticated actor, `If-Match` (validated; a
 * malformed one is a 400, never silently ignored) and the body's reason.
 *
 * @example
 * executeCommand(ctx, command, commandOptions(c, body.reason));
 */
export function commandOptions(c: Context<AdminEnv>, reason?: string): CommandOptions {
  const header = c.req.header('if-match');
  let ifMatch: number | undefined;
  if (header !== undefined) {
    const parsed = IfMatchSchema.safeParse(header.trim());
    if (!parsed.success) throw new AdminError(400, 'invalid If-Match header', describeIssues(parsed.error));
    ifMatch = parsed.data;
  }
  return {
    actor: c.get('actor'),
    ...(ifMatch !== undefined ? { ifMatch } : {}),
    ...(reason ? { reason } : {}),
  };
}
