import { formatVerdictDetails } from './verdict';
import type { AuditEntry } from '../src/admin/history-and-audit';
import { isTypedFlag, type TypedFlag } from '../src/config/flag-schema';
import type { KillResult, StateBody, WriteResult } from './admin-client';
import type { CliCommand } from './commands';

// What the CLI prints for people (`--json` prints the API's own JSON instead). Values the guard
// stores are read defensively: older or newer versions may hold other fields.

type Loose = Record<string, unknown>;

const isRecord = (value: unknown): value is Loose =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);

/**
 * A plain-text table: a header row and left-aligned columns two spaces apart, no trailing
 * spaces. Cells are single-line (newlines become spaces) so a value cannot break the layout.
 *
 * @example
 * formatTable(['NAME', 'ON'], [['templates', 'yes']]);
 * // 'NAME       ON\ntemplates  yes'
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const clean = [headers, ...rows].map((row) => headers.map((_, i) => (row[i] ?? '').replace(/\s+/g, ' ')));
  const widths = headers.map((_, i) => Math.max(...clean.map((row) => row[i]!.length)));
  return clean
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * A percent as ops read it: up to two decimals, no float noise.
 *
 * @example
 * formatPercent(12.5); // '12.5 %'
 */
export function formatPercent(percent: number): string {
  return `${Number(percent.toFixed(2))} %`;
}

/**
 * `npx rollout status` for people: state, percent, version (with the time since its commit and
 * where the KV replica stands), kill switch, flags and the guard. `nowMs` is the CLI's clock.
 */
export function formatStatus(state: StateBody, nowMs?: number): string {
  const { rollout } = state.config;
  const lines = [
    `State     ${state.state}`,
    `Percent   ${formatPercent(state.percent)}`,
    `Version   ${state.version} (config from ${state.source})${sinceCommit(state, nowMs)}`,
    `Replica   ${describeReplica(state.replica)}`,
    `Kill      ${describeKill(state.kill)}`,
  ];
  if (state.kill.handUnreadable) lines.push(`          hand kill unreadable: ${state.kill.handUnreadable}`);
  const bypass = state.kill.bypass;
  if (bypass?.active) {
    const from = [
      bypass.api ? 'API (DELETE /bypass lifts it)' : '',
      bypass.hand !== null ? `KV bypass="${bypass.hand}"` : '',
    ]
      .filter(Boolean)
      .join(' and ');
    lines.push(`Bypass    ON: every visitor to stable, no cookie, no flags (set by ${from || 'KV kill'})`);
    if (bypass.handUnreadable) lines.push(`          hand bypass unreadable: ${bypass.handUnreadable}`);
  }
  if (rollout.steps?.length) {
    lines.push(
      `Steps     ${rollout.steps.map(formatPercent).join(' → ')}, ${rollout.bakeMinutes} min bake each`,
    );
  }
  for (const issue of state.issues ?? []) lines.push(`Invalid   ${issue}`);
  lines.push('', ...formatFlags(state), '', ...formatGuardVerdict(state.guard));
  return lines.join('\n');
}

/** `, committed 12 s ago` when the control plane says when (protocol 3 and later); else nothing. */
function sinceCommit(state: StateBody, nowMs: number | undefined): string {
  const at = state.replica.committedAt;
  if (at === undefined || at <= 0 || nowMs === undefined) return '';
  const seconds = Math.max(0, Math.round((nowMs - at) / 1000));
  const ago =
    seconds < 120
      ? `${seconds} s`
      : seconds < 7_200
        ? `${Math.round(seconds / 60)} min`
        : `${Math.round(seconds / 3_600)} h`;
  return `, committed ${ago} ago`;
}

/**
 * Where the KV replica stands (read back from KV). Locations learn a version from the control
 * plane within seconds (docs/KILL-SWITCH.md); KV is what they fall back on.
 */
function describeReplica(replica: StateBody['replica']): string {
  if (!replica.lagging) return `in step (KV holds version ${replica.kvVersion ?? replica.committedVersion})`;
  const held = replica.kvVersion === null ? 'no valid config' : `version ${replica.kvVersion}`;
  return `lagging: KV holds ${held}, being repaired${replica.lastError ? ` (${replica.lastError})` : ''}`;
}

/**
 * The kill switch in words.
 *
 * @example
 * describeKill({ canary: true, allFlags: false, flags: ['templates'], raw: 'canary flag:templates' });
 * // 'ON: canary stopped (everyone on stable); flags forced off: templates'
 */
export function describeKill(kill: StateBody['kill']): string {
  const parts: string[] = [];
  if (kill.canary) parts.push('canary stopped (everyone on stable)');
  if (kill.allFlags) parts.push('every flag forced off');
  if (kill.flags.length) parts.push(`flags forced off: ${kill.flags.join(', ')}`);
  return parts.length ? `ON: ${parts.join('; ')}` : 'off';
}

/**
 * A typed flag in a few words: its type, its rules, and what everyone else gets.
 *
 * @example
 * describeTypedFlag(flag); // 'string, 1 rule, else split classic 50 % / modern 50 %'
 */
export function describeTypedFlag(flag: TypedFlag): string {
  const serve = flag.fallthrough ?? { variant: flag.offVariant };
  const rest =
    'variant' in serve
      ? serve.variant
      : `split ${Object.entries(serve.split)
          .map(([variant, weight]) => `${variant} ${formatPercent(weight)}`)
          .join(' / ')}`;
  const rules = flag.rules.length === 1 ? '1 rule' : `${flag.rules.length} rules`;
  return `${flag.type}, ${rules}, else ${rest}`;
}

function formatFlags(state: StateBody): string[] {
  const entries = Object.entries(state.config.flags);
  if (entries.length === 0) return ['Flags     none configured'];
  const killed = (name: string) => state.kill.allFlags || state.kill.flags.includes(name);
  const rows = entries.map(([name, flag]) => [
    name,
    flag.enabled ? 'on' : 'off',
    isTypedFlag(flag) ? describeTypedFlag(flag) : formatPercent(flag.percent),
    isTypedFlag(flag) ? `${flag.offVariant} (off variant)` : flag.default ? 'on' : 'off',
    killed(name) ? 'KILLED' : '-',
  ]);
  return [
    'Flags',
    ...formatTable(['flag', 'enabled', 'serves', 'default', 'kill'], rows)
      .split('\n')
      .map((l) => `  ${l}`),
  ];
}

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
  lines.push(...formatVerdictDetails(guard));
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

const DONE: Record<string, string> = {
  promote: 'Promoted',
  finalize: 'Finalized',
  abort: 'Aborted',
  pause: 'Paused',
  resume: 'Resumed',
  undo: 'Restored the previous version',
};

/**
 * One line confirming an accepted write, with the new version and what now holds.
 *
 * @example
 * formatWriteResult({ name: 'set', percent: 10 }, result); // 'Canary at 10 %: state ramping, config version 4.'
 */
export function formatWriteResult(command: CliCommand, result: WriteResult | KillResult): string {
  const { rollout, flags } = result.config;
  const where = `state ${rollout.state}, canary at ${formatPercent(rollout.percent)}, config version ${result.version}`;
  if ('changed' in result && result.changed === false)
    return `No change: that is already in force (${where}).`;
  if (command.name === 'kill') return `Kill switch ${describeKill(result.kill)} (${where}).`;
  switch (command.name) {
    case 'set':
      return `Canary at ${formatPercent(rollout.percent)}: state ${rollout.state}, config version ${result.version}.`;
    case 'flag': {
      const flag = flags[command.flag];
      const now = !flag?.enabled
        ? 'off'
        : isTypedFlag(flag)
          ? `on: ${describeTypedFlag(flag)}`
          : `on for ${formatPercent(flag.percent)} of visitors`;
      return `Flag ${command.flag} ${now} (config version ${result.version}).`;
    }
    default:
      return `${DONE[command.name] ?? command.name}: ${where}.`;
  }
}

/**
 * Audit entries as a table, newest first, with what each one changed.
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
