import type { AuditEntry } from '../admin/audit-entry';
import { describeAuditChange } from './describe-audit-change';
import { formatTable } from './format-table';

/**
 * Audit entries as a table, newest first, with what each one changed.
 *
 * @example
 * console.log(formatAudit(entries, null));
 */
export function formatAudit(entries: readonly AuditEntry[], cursor: string | null): string {
  if (entries.length === 0) return 'No audit entries.';
  const rows = entries.map((entry) => [
    entry.at,
    entry.actor,
    entry.action,
    String(entry.version),
    describeAuditChange(entry),
    entry.reason ?? '',
  ]);
  const table = formatTable(['at', 'actor', 'action', 'version', 'change', 'reason'], rows);
  return cursor ? `${table}\n\nMore entries: npx rollout audit --cursor ${cursor}` : table;
}
