import { initialConfig } from '../../../src/admin/apply-command';
import {
  AUDIT_PREFIX,
  AuditEntrySchema,
  HISTORY_PREFIX,
  historyKey,
  type AuditEntry,
} from '../../../src/admin/history-and-audit';
import {
  API_KILL_SWITCH_KEY,
  CONFIG_KEY,
  parseConfig,
  type RolloutConfig,
} from '../../../src/config/config-schema';
import { parseJsonText } from '../../../src/config/parse-config';
import type { ControlDefaults } from './control-plane';
import { AUDIT_RETENTION, HISTORY_RETENTION, type VersionRow } from './control-tables';

/** What the object starts from: version rows (oldest first, the last is current), audit, replica. */
export interface LegacyState {
  rows: VersionRow[];
  audit: AuditEntry[];
  replica: { version: number | null; kill: string | null; failedAttempts: number };
}

/**
 * The highest version the import accepts. A 0.1 deployment made one version per write, so a real
 * one is far below; anything above was edited by hand or forged. Version 2^53 − 1, say, would
 * leave no room for version + 1 and wedge every later write.
 */
export const MAX_IMPORTED_VERSION = 1_000_000_000;

/**
 * What every imported audit entry's actor starts with (`imported:guard`, `imported:token`). The
 * `audit:*` keys of 0.1 were plain KV values anyone with KV access could write, so they are shown
 * as what they are, never as a real action of the guard or of a person (the cockpit and the CLI
 * print the actor as it is).
 */
export const IMPORTED_ACTOR_PREFIX = 'imported:';

/**
 * Reads what a KV-only deployment (0.1) kept, for the object's first start: `config`, the
 * `history:*` versions and the `audit:*` entries (up to the retention limits). An invalid
 * `config` keeps its version number (or the newest in history), so a repair still moves forward
 * and never overwrites history. KV `kill` is left where it is: it stays the hand-set switch.
 *
 * Nothing imported can wedge the object: a history row above {@link MAX_IMPORTED_VERSION} is
 * dropped, a `config` above it is kept under the version after the newest trusted one (and the
 * replica rewritten), each with a logged reason. Audit actors get {@link IMPORTED_ACTOR_PREFIX}.
 */
export async function readLegacyState(kv: KVNamespace, settings: ControlDefaults): Promise<LegacyState> {
  const [configText, apiKill] = await Promise.all([
    kv.get(CONFIG_KEY, 'text'),
    kv.get(API_KILL_SWITCH_KEY, 'text'),
  ]);
  const history = await readHistory(kv);
  const parsed = configText === null ? undefined : parseConfig(configText);
  let current: RolloutConfig;
  let renumbered = false;
  if (parsed?.ok && parsed.config.version > MAX_IMPORTED_VERSION) {
    const version = (history.at(-1)?.version ?? 0) + 1;
    logImport(
      `KV config version ${parsed.config.version} is above ${MAX_IMPORTED_VERSION}: imported as version ${version}`,
    );
    current = { ...parsed.config, version };
    renumbered = true;
  } else if (parsed?.ok) current = parsed.config;
  else {
    const newest = history.at(-1);
    const version = Math.max(configText === null ? 0 : storedVersion(configText), newest?.version ?? 0);
    current = newest && newest.version === version ? newest : { ...initialConfig(settings), version };
  }
  const older = history.filter((config) => config.version < current.version).slice(-(HISTORY_RETENTION - 1));
  const rows: VersionRow[] = [];
  let base: number | null = null;
  for (const config of [...older, current]) {
    rows.push({ version: config.version, config, kill: null, base });
    base = config.version;
  }
  // The current version carries the API kill switch that KV already holds, so nothing flips.
  rows[rows.length - 1] = { ...rows.at(-1)!, kill: apiKill };
  return {
    rows,
    audit: await readAudit(kv),
    replica: {
      version: (parsed?.ok && !renumbered) || configText === null ? current.version : null,
      kill: apiKill,
      failedAttempts: 0,
    },
  };
}

/**
 * The values of the `max` keys under `prefix` that come last (`newest: 'last'`, history keys
 * count up) or first (`'first'`, audit keys count down): all names are listed, only those values
 * are read.
 */
async function listValues(
  kv: KVNamespace,
  prefix: string,
  max: number,
  newest: 'first' | 'last',
): Promise<Map<string, string | null>> {
  const all: string[] = [];
  let cursor: string | undefined;
  do {
    const page: KVNamespaceListResult<unknown> = await kv.list({ prefix, ...(cursor ? { cursor } : {}) });
    all.push(...page.keys.map((key) => key.name));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  const names = newest === 'last' ? all.slice(-max) : all.slice(0, max);
  const values = new Map<string, string | null>();
  for (let i = 0; i < names.length; i += 100) {
    const chunk = await kv.get(names.slice(i, i + 100), 'text');
    for (const [name, value] of chunk) values.set(name, value);
  }
  return values;
}

async function readHistory(kv: KVNamespace): Promise<RolloutConfig[]> {
  const values = await listValues(kv, HISTORY_PREFIX, HISTORY_RETENTION, 'last');
  const configs: RolloutConfig[] = [];
  for (const [name, text] of values) {
    const parsed = text === null ? undefined : parseConfig(text);
    // A history row must be the version its key names; anything else is not trusted.
    if (!parsed?.ok || historyKey(parsed.config.version) !== name) continue;
    if (parsed.config.version > MAX_IMPORTED_VERSION)
      logImport(`${name} is above version ${MAX_IMPORTED_VERSION}: not imported`);
    else configs.push(parsed.config);
  }
  return configs.sort((a, b) => a.version - b.version).slice(-HISTORY_RETENTION);
}

async function readAudit(kv: KVNamespace): Promise<AuditEntry[]> {
  const values = await listValues(kv, AUDIT_PREFIX, AUDIT_RETENTION, 'first');
  const entries: AuditEntry[] = [];
  // Audit keys list newest first; the object appends oldest first.
  for (const text of [...values.values()].reverse()) {
    const parsed = text === null ? undefined : parseJsonText(text, AuditEntrySchema);
    if (parsed?.ok) entries.push({ ...parsed.value, actor: `${IMPORTED_ACTOR_PREFIX}${parsed.value.actor}` });
  }
  return entries.slice(-AUDIT_RETENTION);
}

function storedVersion(text: string): number {
  try {
    const version = (JSON.parse(text) as { version?: unknown })?.version;
    return Number.isSafeInteger(version) &&
      (version as number) >= 0 &&
      (version as number) <= MAX_IMPORTED_VERSION
      ? (version as number)
      : 0;
  } catch {
    return 0;
  }
}

// The object has no logger port; Workers Logs reads the same JSON lines as the rest of the object.
function logImport(reason: string): void {
  console.warn(JSON.stringify({ level: 'warn', message: 'legacy import: refused a value', reason }));
}
