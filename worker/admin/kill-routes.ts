import type { Handler } from 'hono';
import { KillBodySchema, ReasonBodySchema } from '../../src/admin/admin-bodies';
import { killState } from '../../src/admin/kill-state';
import type { AdminEnv } from './admin-env';
import { AdminError } from './admin-error';
import type { CommandContext } from './command-context';
import { writeKillSwitch, type KillWriteResult } from './kill-switch-writer';
import { readJsonBody } from './read-json-body';
import { commandOptions } from './request-options';

/**
 * `PUT /kill`: sets the kill switch (replacing any previous one).
 *
 * @example
 * admin.put('/kill', auth, killHandler(ctx));
 */
export function killHandler(ctx: CommandContext): Handler<AdminEnv> {
  return async function setKillSwitch(c) {
    const { reason, ...request } = await readJsonBody(c.req.raw, KillBodySchema, { required: true });
    return killResponse(await writeKillSwitch(ctx, request, commandOptions(c, reason)));
  };
}

/**
 * `DELETE /kill`: lifts the kill switch. An optional `{ "reason" }` body goes to the audit log.
 *
 * @example
 * admin.delete('/kill', auth, unkillHandler(ctx));
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
