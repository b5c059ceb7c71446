import type { Context, ErrorHandler } from 'hono';
import type * as z from 'zod/mini';
import { IfMatchSchema } from '../../../src/admin/admin-schemas';
import { describeIssues } from '../../../src/config/parse-config';
import { readLimitedText } from '../../../src/encoding';
import type { Logger } from '../../../src/ports';

/** Hono env of the admin sub-app: the authenticated actor, recorded in audit entries. */
export type AdminEnv = { Variables: { actor: string } };

/** The statuses the admin API answers with on failure. */
export type AdminErrorStatus = 400 | 401 | 403 | 409 | 412 | 422 | 428 | 429 | 503;

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

/** Admin bodies larger than this are refused before they are parsed. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads a request body as JSON and validates it: oversized (over 64 KiB, counted while
 * streaming, whatever Content-Length claims), non-UTF-8, non-JSON and schema-invalid bodies all
 * throw a 400 {@link AdminError} with the issues. An empty optional body parses as `{}`.
 */
export async function readJsonBody<S extends z.ZodMiniType>(
  request: Request,
  schema: S,
  { required }: { required: boolean },
): Promise<z.infer<S>> {
  const text = await readText(request);
  if (text.trim() === '' && required) throw new AdminError(400, 'a JSON body is required');
  let value: unknown = {};
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new AdminError(400, 'body is not valid JSON', [String((error as Error).message)]);
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new AdminError(400, 'invalid body', describeIssues(result.error));
  return result.data;
}

async function readText(request: Request): Promise<string> {
  const body = await readLimitedText(request, MAX_BODY_BYTES);
  if (body.ok) return body.text;
  throw body.reason === 'too-large' ? tooLarge() : new AdminError(400, 'body is not valid UTF-8');
}

function tooLarge(): AdminError {
  return new AdminError(400, `body exceeds ${MAX_BODY_BYTES / 1024} KiB`);
}

/**
 * The command options of an admin write: the authenticated actor, `If-Match` (validated; a
 * malformed one is a 400, never silently ignored) and the body's reason.
 */
export function commandOptions(
  c: Context<AdminEnv>,
  reason?: string,
): { actor: string; ifMatch?: number; reason?: string } {
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
