import type * as z from 'zod/mini';

/**
 * Reading untrusted values (stored text, request bodies, vars) through a zod schema. Nothing here
 * throws: a bad value comes back as readable `path: message` issues.
 */

/**
 * Turns zod issues into `path: message` lines that say what is wrong. zod/mini ships without
 * locale messages (every issue reads "Invalid input"), so the message is built from the issue's
 * code and details, unless a schema gave its own.
 *
 * @example
 * describeIssues(PercentBodySchema.safeParse({ percent: '10', extra: 1 }).error!);
 * // ['percent: expected number', '(root): unknown field "extra"']
 */
export function describeIssues(error: z.core.$ZodError): string[] {
  return error.issues.map(
    (issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${describe(issue)}`,
  );
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.message && issue.message !== 'Invalid input') return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
    case 'invalid_value':
      return `expected ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}`;
    case 'too_small':
      return `must be ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}${unit(issue.origin)}`;
    case 'too_big':
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}${unit(issue.origin)}`;
    case 'invalid_format':
      return issue.format === 'regex' ? `must match ${issue.pattern}` : `must be a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'invalid_key':
      return `invalid key: ${issue.issues.map(describe).join('; ')}`;
    case 'invalid_element':
      return `invalid entry: ${issue.issues.map(describe).join('; ')}`;
    case 'invalid_union':
      return 'matches none of the allowed forms';
    default:
      return issue.message;
  }
}

function unit(origin: string): string {
  if (origin === 'string') return ' characters';
  if (origin === 'array' || origin === 'set') return ' items';
  return '';
}

/** A value checked against a schema: validated, or why not. */
export type JsonTextResult<T> = { ok: true; value: T } | { ok: false; issues: string[] };

/** Validates an already-decoded value. */
export function validate<S extends z.ZodMiniType>(value: unknown, schema: S): JsonTextResult<z.infer<S>> {
  const parsed = schema.safeParse(value);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, issues: describeIssues(parsed.error) };
}

/**
 * Parses text (a KV value, a request body) as JSON and validates it with a schema. Corrupt or
 * foreign values come back as issues for the caller to log or answer with. `subject` names the
 * text in the JSON issue (`config is not valid JSON: …`).
 *
 * @example
 * const entry = parseJsonText(await kv.get(key, 'text'), AuditEntrySchema);
 * if (entry.ok) entries.push(entry.value);
 */
export function parseJsonText<S extends z.ZodMiniType>(
  text: string,
  schema: S,
  subject?: string,
): JsonTextResult<z.infer<S>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const what = subject === undefined ? '' : `${subject} is `;
    return { ok: false, issues: [`${what}not valid JSON: ${(error as Error).message}`] };
  }
  return validate(value, schema);
}
