import type { AuditEntry } from '../admin/audit-entry';

type Loose = Record<string, unknown>;

const isRecord = (value: unknown): value is Loose =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What an audit entry changed, in one line: the kill switch value, or the rollout state,
 * percent and flags that differ between `before` and `after` (whole configs). Read
 * defensively, since entries written by older versions may lack fields.
 *
 * @example
 * describeAuditChange(entry); // 'ramping → promoted; percent 50 → 100'
 */
export function describeAuditChange(entry: Pick<AuditEntry, 'before' | 'after'>): string {
  const { before, after } = entry;
  if (isRecord(before) && isRecord(after) && ('kill' in before || 'kill' in after)) {
    return `kill ${killText(before.kill)} → ${killText(after.kill)}`;
  }
  if (!isRecord(before) || !isRecord(after)) return '';
  const changes: string[] = [];
  const from = isRecord(before.rollout) ? before.rollout : {};
  const to = isRecord(after.rollout) ? after.rollout : {};
  if (from.state !== to.state) changes.push(`${String(from.state)} → ${String(to.state)}`);
  if (from.percent !== to.percent) changes.push(`percent ${String(from.percent)} → ${String(to.percent)}`);
  const flagsBefore = isRecord(before.flags) ? before.flags : {};
  const flagsAfter = isRecord(after.flags) ? after.flags : {};
  for (const name of new Set([...Object.keys(flagsBefore), ...Object.keys(flagsAfter)])) {
    const a = flagText(flagsBefore[name]);
    const b = flagText(flagsAfter[name]);
    if (a !== b) changes.push(`flag ${name} ${a} → ${b}`);
  }
  return changes.join('; ');
}

function killText(value: unknown): string {
  return typeof value === 'string' && value ? `"${value}"` : 'none';
}

function flagText(flag: unknown): string {
  if (!isRecord(flag)) return 'absent';
  if (flag.enabled !== true) return 'off';
  return typeof flag.percent === 'number' ? `on ${flag.percent} %` : 'on';
}
