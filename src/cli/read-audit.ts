import type { AuditEntry } from '../admin/audit-entry';
import type { AdminClient } from './admin-client';
import type { Since } from './command-arguments';

/** The API's largest page. */
const PAGE_SIZE = 100;

/** What {@link readAudit} collected: the entries as sent, and where to continue (or null). */
export interface AuditSelection {
  entries: AuditEntry[];
  raw: unknown[];
  cursor: string | null;
}

/**
 * Reads audit entries newest first, page after page, until `limit` entries are in hand, an
 * entry older than `since` shows up, or the log ends. Bounded by `limit`: at most
 * ceil(limit / 100) + 1 requests.
 *
 * @example
 * const { entries } = await readAudit(client, { limit: 1000, since: { agoMs: 86_400_000 } }, Date.now());
 */
export async function readAudit(
  client: AdminClient,
  query: { limit: number; cursor?: string; since?: Since },
  nowMs: number,
): Promise<AuditSelection> {
  const sinceMs = query.since && ('agoMs' in query.since ? nowMs - query.since.agoMs : query.since.atMs);
  const entries: AuditEntry[] = [];
  const raw: unknown[] = [];
  let cursor: string | null = query.cursor ?? null;
  let first = true;
  while (entries.length < query.limit && (first || cursor !== null)) {
    first = false;
    const page = await client.auditPage({
      limit: Math.min(PAGE_SIZE, query.limit - entries.length),
      ...(cursor ? { cursor } : {}),
    });
    cursor = page.data.cursor;
    const rawEntries = Array.isArray((page.raw as { entries?: unknown })?.entries)
      ? ((page.raw as { entries: unknown[] }).entries as unknown[])
      : [];
    for (const [index, entry] of page.data.entries.entries()) {
      if (sinceMs !== undefined && Date.parse(entry.at) < sinceMs) return { entries, raw, cursor: null };
      entries.push(entry);
      raw.push(rawEntries[index]);
    }
  }
  return { entries, raw, cursor };
}
