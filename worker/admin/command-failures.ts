import type { CommandContext } from './command-context';
import type { CommandResult } from './execute-command';
import { KvWriteError } from './kv-retry';

/** A refused admin write. */
export type CommandFailure = Extract<CommandResult, { ok: false }>;

/**
 * KV could not be read: nothing was changed. Logged under `what` (the write being attempted).
 *
 * @example
 * return kvReadFailed(ctx, 'kill switch', error);
 */
export function kvReadFailed(ctx: CommandContext, what: string, error: unknown): CommandFailure {
  ctx.logger.error(`${what}: KV read failed`, { error: String(error) });
  return { ok: false, status: 503, error: 'KV is unavailable; nothing changed', retryAfterSeconds: 5 };
}

/**
 * `If-Match` names another version than the current one: 412, or undefined when it matches
 * (or was not sent).
 *
 * @example
 * const stale = versionMismatch(options.ifMatch, current.version);
 * if (stale) return stale;
 */
export function versionMismatch(ifMatch: number | undefined, version: number): CommandFailure | undefined {
  if (ifMatch === undefined || ifMatch === version) return undefined;
  return { ok: false, status: 412, error: `If-Match ${ifMatch} is not the current version ${version}` };
}

/**
 * A KV write failed after its retries: 503 with Retry-After, shorter when it was KV's
 * one-write-per-second limit.
 *
 * @example
 * return kvWriteFailed(ctx, 'admin command', error);
 */
export function kvWriteFailed(ctx: CommandContext, what: string, error: unknown): CommandFailure {
  const rateLimited = error instanceof KvWriteError && error.rateLimited;
  ctx.logger.error(`${what}: KV write failed, nothing changed`, { error: String(error), rateLimited });
  return rateLimited
    ? {
        ok: false,
        status: 503,
        error: 'KV rate limit (one write per second per key); nothing changed, retry',
        retryAfterSeconds: 2,
      }
    : { ok: false, status: 503, error: 'KV write failed; nothing changed', retryAfterSeconds: 5 };
}
