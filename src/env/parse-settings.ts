import { describeIssues } from '../config/describe-issues';
import { SettingsSchema, type Settings } from './settings-schema';

/** Settings, or the issues that make them unusable. */
export type SettingsResult = { ok: true; settings: Settings } | { ok: false; issues: string[] };

/**
 * Validates the Worker's vars. Only string-valued entries are considered: bindings are objects
 * and belong to worker/.
 *
 * @example
 * parseSettings({ STABLE_ORIGIN: 'https://a.example', CANARY_ORIGIN: 'https://b.example' });
 */
export function parseSettings(vars: Record<string, unknown>): SettingsResult {
  const strings = Object.fromEntries(Object.entries(vars).filter(([, value]) => typeof value === 'string'));
  const result = SettingsSchema.safeParse(strings);
  return result.success
    ? { ok: true, settings: result.data }
    : { ok: false, issues: describeIssues(result.error) };
}
