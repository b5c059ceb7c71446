import type { Context, Handler } from 'hono';
import * as z from 'zod/mini';
import { KillBodySchema, ReasonBodySchema } from '../../../src/admin/admin-schemas';
import { describeIssues } from '../../../src/config/parse-config';
import type { ControlDeps } from '../control-deps';
import type { ControlCommand, ControlResult } from '../single-writer/control-plane';
import { AdminError, commandOptions, readJsonBody, type AdminEnv } from './admin-http';
import { killState } from '../../../src/admin/kill-switch-text';
import { previewChange } from '../../../src/admin/preview';
import { readHandBypass, readHandKill } from './read-routes';

const DryRunSchema = z.optional(z.enum(['1', 'true', '0', 'false']));

/**
 * A write route: validates the body with `schema`, turns it into a command and sends it to the
 * control plane, the one writer. Answers `{ version, config, changed, kill }` with
 * `ETag: "<version>"`, or the refusal as `{ error, issues? }`. `?dryRun=1` answers what the
 * write would do (the config it would write) and changes nothing.
 *
 * @example
 * admin.put('/percent', auth, commandHandler(deps, PercentBodySchema, true, (body) => ({ type: 'set-percent', percent: body.percent })));
 */
export function commandHandler<S extends z.ZodMiniType<{ reason?: string } | object>>(
  deps: ControlDeps,
  schema: S,
  required: boolean,
  toCommand: (body: z.infer<S>, c: Context<AdminEnv>) => ControlCommand,
): Handler<AdminEnv> {
  return async function runAdminCommand(c) {
    const dryRun = dryRunOf(c);
    const body = await readJsonBody(c.req.raw, schema, { required });
    const command = toCommand(body, c);
    const reason = 'reason' in body && typeof body.reason === 'string' ? body.reason : undefined;
    const options = commandOptions(c, reason);
    if (command.type === 'undo' && !dryRun && options.ifMatch === undefined) throw undoNeedsIfMatch();
    // The hand-set kill switch is read beside the write, so the isolate is primed at once.
    const [result, hand, handBypass] = await Promise.all([
      deps.control.command(command, { ...options, now: deps.clock.now(), dryRun }),
      readHandKill(deps),
      command.type === 'bypass' || command.type === 'unbypass' ? readHandBypass(deps) : null,
    ]);
    return writeResponse(c, deps, result, hand, handBypass);
  };
}

/**
 * Undo goes back one version from whatever is current when it lands, so two undos sent at once
 * without `If-Match` would roll back two versions where each sender meant one. With `If-Match`
 * the second gets 412. `428 Precondition Required` (RFC 6585) says what to send.
 */
function undoNeedsIfMatch(): AdminError {
  return new AdminError(
    428,
    'undo needs If-Match: the version it undoes, as GET /state gives it (ETag), e.g. If-Match: "7"',
  );
}

/** `PUT /kill`: sets the API kill switch (replacing the previous one). */
export function killHandler(deps: ControlDeps): Handler<AdminEnv> {
  return commandHandler(deps, KillBodySchema, true, ({ reason: _reason, ...request }) => ({
    type: 'kill',
    request,
  }));
}

/** `DELETE /kill`: lifts the API kill switch. A hand-set `kill` in KV stays, and is named. */
export function unkillHandler(deps: ControlDeps): Handler<AdminEnv> {
  return commandHandler(deps, ReasonBodySchema, false, () => ({ type: 'unkill' }));
}

/**
 * `PUT /bypass`: bypass mode on (visitor paths straight to stable, no cookie, no flags), kept as
 * the API kill switch's `bypass` token: versioned and audited like a kill, and never lifting one.
 */
export function bypassHandler(deps: ControlDeps): Handler<AdminEnv> {
  return commandHandler(deps, ReasonBodySchema, false, () => ({ type: 'bypass' }));
}

/** `DELETE /bypass`: bypass mode off. A hand-set KV `bypass` stays in force, and is named. */
export function unbypassHandler(deps: ControlDeps): Handler<AdminEnv> {
  return commandHandler(deps, ReasonBodySchema, false, () => ({ type: 'unbypass' }));
}

function writeResponse(
  c: Context<AdminEnv>,
  deps: ControlDeps,
  result: ControlResult,
  hand: string | null,
  handBypass: string | null,
): Response {
  if (!result.ok) throw new AdminError(result.status, result.error, result.issues, result.retryAfterSeconds);
  // This isolate serves the new version at once (with the hand-set kill switch read beside the
  // write); others follow through the KV replica. Of two writes answered out of order, the older
  // version never replaces the newer one.
  if (result.changed && !result.dryRun && deps.store.prime(result.config))
    deps.store.primeKill(result.kill, hand);
  c.header('etag', `"${result.dryRun ? result.previous.version : result.version}"`);
  return c.json({
    version: result.version,
    config: result.config,
    changed: result.changed,
    kill: killState(result.kill, hand, handBypass),
    replica: result.replica,
    ...(result.dryRun
      ? {
          dryRun: true,
          currentVersion: result.previous.version,
          preview: previewChange(
            { config: result.previous, kill: result.previousKill },
            { config: result.config, kill: result.kill },
            { handKill: hand },
          ),
        }
      : {}),
    ...(hand !== null
      ? { warning: `a kill switch set by hand in KV ("${hand.slice(0, 200)}") stays in force until deleted` }
      : handBypass !== null && handBypass.trim() !== '' && handBypass.trim().toLowerCase() !== 'off'
        ? { warning: `bypass set by hand in KV ("${handBypass.slice(0, 64)}") stays in force until deleted` }
        : {}),
  });
}

function dryRunOf(c: Context<AdminEnv>): boolean {
  const parsed = DryRunSchema.safeParse(c.req.query('dryRun'));
  if (!parsed.success) throw new AdminError(400, 'invalid dryRun query', describeIssues(parsed.error));
  return parsed.data === '1' || parsed.data === 'true';
}
