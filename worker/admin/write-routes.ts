import type { Context, Handler } from 'hono';
import type * as z from 'zod/mini';
import { KillBodySchema, ReasonBodySchema } from '../../src/admin/admin-schemas';
import { killState } from '../../src/admin/kill-switch-text';
import type { AdminCommand } from '../../src/admin/lifecycle';
import type { AppDeps } from '../app';
import { AdminError, commandOptions, readJsonBody, type AdminEnv } from './admin-http';
import type { CommandContext } from './command-context';
import { executeCommand, type CommandResult } from './execute-command';
import { writeKillSwitch, type KillWriteResult } from './kill-switch-writer';

/**
 * The command context of the admin routes, built once from the app's deps.
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

/**
 * `PUT /kill`: sets the kill switch (replacing any previous one).
 */
export function killHandler(ctx: CommandContext): Handler<AdminEnv> {
  return async function setKillSwitch(c) {
    const { reason, ...request } = await readJsonBody(c.req.raw, KillBodySchema, { required: true });
    return killResponse(await writeKillSwitch(ctx, request, commandOptions(c, reason)));
  };
}

/**
 * `DELETE /kill`: lifts the kill switch. An optional `{ "reason" }` body goes to the audit log.
 */
export function unkillHandler(ctx: CommandContext): Handler<AdminEnv> {
  return async function liftKillSwitch(c) {
    const { reason } = await readJsonBody(c.req.raw, ReasonBodySchema, { required: false });
    return killResponse(await writeKillSwitch(ctx, null, commandOptions(c, reason)));
  };
}

function killResponse(result: KillWriteResult): Response {
  if (!result.ok) throw new AdminError(result.status, result.error, result.issues, result.retryAfterSeconds);
  return Response.json({
    version: result.config.version,
    config: result.config,
    kill: killState(result.kill),
  });
}
