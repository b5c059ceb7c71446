import type * as z from 'zod/mini';
import { describeIssues } from '../../src/config/describe-issues';
import { readLimitedText } from '../../src/http/read-limited-text';
import { AdminError } from './admin-error';

/** Admin bodies larger than this are refused before they are parsed. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads a request body as JSON and validates it: oversized (over 64 KiB, counted while
 * streaming, whatever Content-Length claims), non-UTF-8, non-JSON and schema-invalid bodies all
 * throw a 400 {@link AdminError} with the issues. An empty optional body parses as `{}`.
 *
 * @example
 * const body = await readJsonBody(c.req.raw, PercentBodySchema, { required: true });
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
