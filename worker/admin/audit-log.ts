import {
  AUDIT_PREFIX,
  type AuditEntry,
  AuditEntrySchema,
  auditKey,
  randomText,
} from '../../src/admin/history-and-audit';
import { parseJsonText } from '../../src/config/parse-config';
import type { Logger } from '../../src/ports';
import type { CommandContext } from './command-context';
import { writeWithRetry } from './kv-retry';

/** An audit entry before it gets its id and time. */
export type AuditRecord = Omit<AuditEntry, 'id' | 'at'>;

/**
 * Writes the audit entry of an applied change under its own key (so concurrent writers never
 * overwrite each other). The change already stands, so a failure is logged loudly rather than
 * reported as a failed command. Returns the entry, or undefined when it was lost.
 *
 * @example
 * await recordAudit(ctx, { actor: 'token', action: 'set-percent', before, after, version: 3 });
 */
export async function recordAudit(
  ctx: Pick<CommandContext, 'kv' | 'clock' | 'logger' | 'retryDelaysMs'>,
  record: AuditRecord,
): Promise<AuditEntry | undefined> {
  const now = ctx.clock.now();
  const key = auditKey(now, randomText(6));
  const { reason, ...rest } = record;
  const entry: AuditEntry = {
    id: key.slice(AUDIT_PREFIX.length),
    at: new Date(now).toISOString(),
    ...rest,
    ...(reason ? { reason } : {}),
  };
  try {
    await writeWithRetry(key, () => ctx.kv.put(key, JSON.stringify(entry)), ctx.retryDelaysMs);
    return entry;
  } catch (error) {
    ctx.logger.error('audit entry lost: the change was applied but not audited', {
      action: record.action,
      actor: record.actor,
      version: record.version,
      error: String(error),
    });
    return undefined;
  }
}

/** One page of the audit log. */
export interface AuditPage {
  entries: AuditEntry[];
  cursor: string | null;
}

/**
 * Lists audit entries newest first (the key order), `limit` (at most 100, one bulk read) at a
 * time. Entries that no longer parse are skipped and logged.
 *
 * @example
 * const { entries, cursor } = await listAuditEntries(kv, 50, undefined, logger);
 */
export async function listAuditEntries(
  kv: KVNamespace,
  limit: number,
  cursor: string | undefined,
  logger: Logger,
): Promise<AuditPage> {
  const list = await kv.list({ prefix: AUDIT_PREFIX, limit, ...(cursor ? { cursor } : {}) });
  const next = list.list_complete ? null : list.cursor;
  if (list.keys.length === 0) return { entries: [], cursor: next };
  const values = await kv.get(
    list.keys.map((key) => key.name),
    'text',
  );
  const entries: AuditEntry[] = [];
  for (const { name } of list.keys) {
    const parsed = parseEntry(values.get(name) ?? null);
    if (parsed) entries.push(parsed);
    else logger.warn('unreadable audit entry skipped', { key: name });
  }
  return { entries, cursor: next };
}

function parseEntry(text: string | null): AuditEntry | undefined {
  if (text === null) return undefined;
  const result = parseJsonText(text, AuditEntrySchema);
  return result.ok ? result.value : undefined;
}
