import type { RolloutConfig } from '../../src/config/config-schema';
import { parseConfig } from '../../src/config/parse-config';
import { historyKey } from '../../src/admin/history-and-audit';

/**
 * The config of one version from history, or undefined when it was never kept (or is no longer
 * a valid config).
 *
 * @example
 * await readHistory(kv, 6); // reads `history:0000000006`
 */
export async function readHistory(kv: KVNamespace, version: number): Promise<RolloutConfig | undefined> {
  if (version < 0) return undefined;
  const text = await kv.get(historyKey(version), 'text');
  if (text === null) return undefined;
  const parsed = parseConfig(text);
  return parsed.ok ? parsed.config : undefined;
}
