import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../src/guard/guard-settings';

/** The rows of the table under `## Thresholds` in docs/GUARD.md: `name` → default. */
function documentedThresholds(): Record<string, number> {
  const doc = readFileSync(new URL('../../docs/GUARD.md', import.meta.url), 'utf8');
  const section = doc.split(/^## /m).find((part) => part.startsWith('Thresholds\n'));
  if (!section) throw new Error('docs/GUARD.md has no "## Thresholds" section');
  const rows = [...section.matchAll(/^\|\s*`(\w+)`\s*\|\s*([^|]+?)\s*\|/gm)];
  return Object.fromEntries(rows.map(([, name, value]) => [name, Number(value)]));
}

describe('docs/GUARD.md thresholds table', () => {
  it('lists exactly DEFAULT_THRESHOLDS, with the same defaults', () => {
    expect(documentedThresholds()).toEqual({ ...DEFAULT_THRESHOLDS });
  });
});
