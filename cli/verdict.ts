import { GuardVerdictRecordSchema, type GuardVerdictRecord } from '../src/guard/analyze-canary';
import { describePropagation, type VersionShare } from '../src/guard/traffic-split';
import { formatVerdictTable } from '../src/guard/verdict-table';

// `npx rollout verdict`, and the verdict table inside `npx rollout status`: the guard's per-metric
// table, the split test, the propagation of the step and the versions seen, read from the
// `guard` field of GET /state.

/**
 * The parts of a verdict that go beyond its headline, as lines: the per-metric table, the
 * sample-ratio test, propagation, the consecutive-run streak and the versions seen. Empty for a
 * verdict stored before these existed, or one that does not validate.
 *
 * @example
 * formatVerdictDetails(state.guard).join('\n');
 */
export function formatVerdictDetails(guard: unknown): string[] {
  const parsed = GuardVerdictRecordSchema.safeParse(guard);
  if (!parsed.success) return [];
  const record = parsed.data;
  const lines: string[] = [];
  if ('table' in record && record.table?.length)
    lines.push(...formatVerdictTable(record.table).map((line) => `  ${line}`));
  if (record.srm) lines.push(`  split: ${record.srm.class} (${record.srm.note})`);
  if (record.propagation) lines.push(`  propagation: ${describePropagation(record.propagation)}`);
  if (record.streak)
    lines.push(
      `  streak: ${record.streak.healthy} healthy, ${record.streak.inconclusive} inconclusive in a row`,
    );
  if (record.configVersions?.length) lines.push(`  config versions: ${shares(record.configVersions, 'v')}`);
  if (record.workerVersions?.length) lines.push(`  worker versions: ${shares(record.workerVersions, '')}`);
  if (record.workerVersion) lines.push(`  judged only worker version ${record.workerVersion}`);
  return lines;
}

/**
 * `npx rollout verdict` for people: the headline, the table and its details, what the guard did
 * and the queries it sent.
 *
 * @example
 * formatVerdict(state.guard); // ['Verdict   healthy at … (last 5 min)', '  metric  canary …', …]
 */
export function formatVerdict(guard: unknown): string {
  if (guard === null || guard === undefined)
    return 'Verdict   none yet: the guard has not judged a live canary';
  const parsed = GuardVerdictRecordSchema.safeParse(guard);
  if (!parsed.success) return `Verdict   unreadable: ${JSON.stringify(guard).slice(0, 200)}`;
  const record = parsed.data;
  const window = 'numbers' in record ? ` (${record.numbers.window})` : '';
  const version = record.configVersion === undefined ? '' : ` on config v${record.configVersion}`;
  const lines = [`Verdict   ${record.status} at ${record.at}${window}${version}`];
  lines.push(...headlineReasons(record));
  lines.push(...formatVerdictDetails(record));
  lines.push(`  action: ${describeAction(record.action)}`);
  if (record.schedule) {
    const ends = record.schedule.bakeEndsAt ? `, bake ends ${record.schedule.bakeEndsAt}` : '';
    lines.push(`  schedule: ${record.schedule.note}${ends}`);
  }
  if (record.sql?.length)
    lines.push(`  sql: ${record.sql.length} queries kept with the verdict (print them with --json)`);
  return lines.join('\n');
}

function headlineReasons(record: GuardVerdictRecord): string[] {
  if (record.status === 'breach') return record.reasons.map((reason) => `  breach: ${reason.message}`);
  if (record.status === 'inconclusive' || record.status === 'unknown') return [`  reason: ${record.reason}`];
  return [];
}

function describeAction(action: GuardVerdictRecord['action']): string {
  const { type, ...details } = action;
  const extra = Object.entries(details).map(([key, value]) => `${key} ${String(value)}`);
  return `${type}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

function shares(list: readonly VersionShare[], prefix: string): string {
  return list
    .slice(0, 5)
    .map((share) => `${prefix}${share.version} ${share.percent.toFixed(1)} %`)
    .join(', ');
}
