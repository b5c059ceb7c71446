import type { ErrorHandler } from 'hono';
import type { Logger } from '../../src/ports/logger';

/** The statuses the admin API answers with on failure. */
export type AdminErrorStatus = 400 | 401 | 403 | 409 | 412 | 429 | 503;

/**
 * A failure that becomes a JSON response `{ error, issues? }` in one place (the sub-app's
 * error handler). Handlers throw it instead of building error responses themselves.
 *
 * @example
 * throw new AdminError(409, 'cannot pause: the rollout is idle');
 */
export class AdminError extends Error {
  constructor(
    readonly status: AdminErrorStatus,
    message: string,
    readonly issues?: string[],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

/**
 * Turns thrown errors into JSON responses. Anything that is not an {@link AdminError} comes from
 * the platform (KV down, a runtime limit), so it is answered as temporarily unavailable.
 *
 * @example
 * admin.onError(adminErrorHandler(logger));
 */
export function adminErrorHandler(logger: Logger): ErrorHandler {
  return function adminError(error) {
    const known =
      error instanceof AdminError
        ? error
        : new AdminError(503, 'admin API temporarily unavailable', undefined, 5);
    if (!(error instanceof AdminError)) logger.error('admin API error', { error: String(error) });
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    if (known.retryAfterSeconds !== undefined) headers['retry-after'] = String(known.retryAfterSeconds);
    if (known.status === 401) headers['www-authenticate'] = 'Bearer realm="edge-rollout admin"';
    const body = known.issues ? { error: known.message, issues: known.issues } : { error: known.message };
    return Response.json(body, { status: known.status, headers });
  };
}
