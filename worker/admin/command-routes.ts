import type { Context, Handler } from 'hono';
import type * as z from 'zod/mini';
import type { AdminCommand } from '../../src/admin/admin-command';
import type { AppDeps } from '../app-deps';
import type { AdminEnv } from './admin-env';
import { AdminError } from './admin-error';
import type { CommandContext } from './command-context';
import { executeCommand, type CommandResult } from './execute-command';
import { readJsonBody } from './read-json-body';
import { commandOptions } from './request-options';

/**
 * The command context of the admin routes, built once from the app's deps.
 *
 * @example
 * const ctx = commandContext(deps);
 */
export function commandContext(deps: AppDeps): CommandContext {
  return { kv: deps.kv, store: deps.store, clock: deps.clock, logger: deps.logger, settings: deps.settings };
}

/**
 * A write route: validates the body with `schema`, turns it into a command and runs it through
 * {@link executeCommand}. Answers `{ version, config }` with `ETag: "<version>"`, or the
 * command's failure as `{ error, issues? }`.
 *
 * @example
 * admin.put('/percent', auth, commandHandler(ctx, PercentBodySchema, true, (body) => ({ type: 'set-percent', percent: body.percent })));
 */
export function commandHandler<S extends z.ZodMiniType<{ reason?: string } | object>>(
  ctx: CommandContext,
  schema: S,
  required: boolean,
  toCommand: (body: z.infer<S>, c: Context<AdminEnv>) => AdminCommand,
): Handler<AdminEnv> {
  return async function runAdminCommand(c) {
    const body = await readJsonBody(c.req.raw, schema, { required });
    const command = toCommand(body, c);
    const reason = 'reason' in body && typeof body.reason === 'string' ? body.reason : undefined;
    const result = await executeCommand(ctx, command, commandOptions(c, reason));
    return writeResponse(c, result);
  };
}

function writeResponse(c: Context<AdminEnv>, result: CommandResult): Response {
  if (!result.ok) throw new AdminError(result.status, result.error, result.issues, result.retryAfterSeconds);
  c.header('etag', `"${result.config.version}"`);
  return c.json({ version: result.config.version, config: result.config });
}
