import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyticsDatasetFor } from '../../src/guard/guard-settings';

/**
 * Each wrangler.toml environment's Analytics Engine dataset and `ENVIRONMENT` var, read with
 * two small patterns (the file's layout is fixed by the repo's own conventions).
 */
function environments(): { name: string; environment: string; dataset: string }[] {
  const toml = readFileSync(new URL('../../wrangler.toml', import.meta.url), 'utf8');
  const sections = toml.split(/^(?=\[)/m);
  const byEnv = new Map<string, { environment?: string; dataset?: string }>();
  for (const section of sections) {
    const header = /^\[\[?(?:env\.(\w+)\.)?([\w_]+)\]\]?/.exec(section);
    if (!header) continue;
    const name = header[1] ?? '(top level)';
    const entry = byEnv.get(name) ?? {};
    if (header[2] === 'analytics_engine_datasets')
      entry.dataset = /^dataset\s*=\s*"([^"]+)"/m.exec(section)?.[1];
    if (header[2] === 'vars') entry.environment = /^ENVIRONMENT\s*=\s*"([^"]+)"/m.exec(section)?.[1];
    byEnv.set(name, entry);
  }
  return [...byEnv]
    .filter(([, entry]) => entry.dataset !== undefined)
    .map(([name, entry]) => ({
      name,
      environment: entry.environment ?? 'development',
      dataset: entry.dataset!,
    }));
}

describe('the dataset the guard queries', () => {
  const envs = environments();

  it('finds a dataset binding for the top level, staging and production', () => {
    expect(envs.map((env) => env.name).sort()).toEqual(['(top level)', 'production', 'staging']);
  });

  it.each(envs)('is the dataset $name writes to', ({ environment, dataset }) => {
    expect(analyticsDatasetFor(environment)).toBe(dataset);
  });
});
