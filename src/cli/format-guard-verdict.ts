import { formatTable } from './format-table';

type Loose = Record<string, unknown>;

const isRecord = (value: unknown): value is Loose =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);

/**
 * The guard's verdict as lines of text. The verdict is stored by the guard and passed through
 * as is, so every field is read defensively: what is there is shown, what is missing is
 * skipped, and numbers are tabulated per cohort whatever their names.
 *
 * @example
 * formatGuardVerdict({ status: 'healthy', at: '2026-11-25T12:00:00Z', numbers: { … } });
 * // ['Guard     healthy at 2026-11-25T12:00:00Z (last 5 min)', …]
 */
export function formatGuardVerdict(guard: unknown): string[] {
  if (guard === null || guard === undefined) return ['Guard     no verdict yet'];
  if (!isRecord(guard)) return [`Guard     unreadable verdict: ${JSON.stringify(guard).slice(0, 200)}`];
  const numbers = isRecord(guard.numbers) ? guard.numbers : guard;
  const window = text(numbers.window);
  const at = text(guard.at);
  const lines = [
    `Guard     ${text(guard.status) ?? 'unknown status'}${at ? ` at ${at}` : ''}${window ? ` (${window})` : ''}`,
  ];
  for (const reason of Array.isArray(guard.reasons) ? guard.reasons : []) {
    lines.push(
      `  breach: ${isRecord(reason) ? (text(reason.message) ?? JSON.stringify(reason)) : String(reason)}`,
    );
  }
  if (text(guard.reason)) lines.push(`  reason: ${guard.reason}`);
  const cohorts = (['canary', 'stable'] as const).filter((name) => isRecord(numbers[name]));
  if (cohorts.length > 0) {
    // One row per figure, one column per cohort: the figures vary by guard version, cohorts don't.
    const figures = cohorts.map((name) => numbers[name] as Loose);
    const keys = [...new Set(figures.flatMap((f) => Object.keys(f).filter((k) => isFigure(f[k]))))];
    const rows = keys.map((key) => [key, ...figures.map((f) => (key in f ? figure(f[key]) : ''))]);
    lines.push(...indent(formatTable(['', ...cohorts], rows)));
  }
  if (isRecord(numbers.thresholds)) {
    const limits = Object.entries(numbers.thresholds).map(([k, v]) => `${k} ${figure(v)}`);
    if (limits.length) lines.push(`  thresholds: ${limits.join(', ')}`);
  }
  if (isRecord(guard.action) && text(guard.action.type)) {
    const { type, ...details } = guard.action;
    const extra = Object.entries(details).map(
      ([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`,
    );
    lines.push(`  action: ${type}${extra.length ? ` (${extra.join(', ')})` : ''}`);
  }
  if (isRecord(guard.schedule) && text(guard.schedule.note)) lines.push(`  schedule: ${guard.schedule.note}`);
  return lines;
}

function isFigure(value: unknown): boolean {
  return value === null || typeof value === 'number';
}

function figure(value: unknown): string {
  if (typeof value === 'number') return String(Number(value.toFixed(2)));
  return value === null ? '-' : String(value);
}

function indent(block: string): string[] {
  return block.split('\n').map((line) => `  ${line}`);
}
