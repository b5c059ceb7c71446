import { RolloutConfigSchema, type RolloutConfig } from './config-schema';
import { describeIssues } from './describe-issues';

/** A parse result that never throws: either the config or readable issues. */
export type ConfigParseResult = { ok: true; config: RolloutConfig } | { ok: false; issues: string[] };

/**
 * Parses a config from raw KV text or an already-decoded value.
 *
 * @example
 * const result = parseConfig(await kv.get('config'));
 * if (!result.ok) log(result.issues);
 */
export function parseConfig(raw: unknown): ConfigParseResult {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      return { ok: false, issues: [`config is not valid JSON: ${(error as Error).message}`] };
    }
  }
  const result = RolloutConfigSchema.safeParse(value);
  return result.success
    ? { ok: true, config: result.data }
    : { ok: false, issues: describeIssues(result.error) };
}
