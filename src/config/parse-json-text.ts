import type * as z from 'zod/mini';
import { describeIssues } from './describe-issues';

/** A value read from stored text: parsed and validated, or why not. */
export type JsonTextResult<T> = { ok: true; value: T } | { ok: false; issues: string[] };

/**
 * Parses stored text (a KV value) as JSON and validates it with a schema. Never throws: corrupt
 * or foreign values come back as issues for the caller to log and ignore.
 *
 * @example
 * const entry = parseJsonText(await kv.get(key, 'text'), AuditEntrySchema);
 * if (entry.ok) entries.push(entry.value);
 */
export function parseJsonText<S extends z.ZodMiniType>(text: string, schema: S): JsonTextResult<z.infer<S>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, issues: [`not valid JSON: ${(error as Error).message}`] };
  }
  const parsed = schema.safeParse(value);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, issues: describeIssues(parsed.error) };
}
