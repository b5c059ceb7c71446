// The incident: a banner at the top for an abort, a pause or a kill (what, why with its numbers,
// when, by whom), the timeline breach → abort → notification → undo, and the guard's verdict
// table, which reads as the CLI prints it (`rollout verdict`: units, pass conditions, rounding).
import { $, clock, el, fill, page } from './cockpit-dom.js';

/** The newest audit entry of one of `actions`, or undefined. */
const latest = (actions) => page.audit.find((entry) => actions.includes(entry.action));

/**
 * What the banner says, or null when the rollout is neither aborted, paused nor killed. A guard
 * abort names the breached metrics with their numbers, from the verdict that caused it.
 */
export function incidentSummary(shown, series) {
  const verdict = shown.guard;
  let what;
  let entry;
  if (shown.kill.canary) {
    what = 'Canary killed: every visitor is on stable';
    entry = latest(['kill']);
  } else if (shown.state === 'aborted') {
    what = 'Canary aborted: every visitor is on stable';
    entry = latest(['abort']);
  } else if (shown.state === 'paused') {
    what = 'Rollout paused: the canary keeps its share, the schedule waits';
    entry = latest(['pause']);
  } else return null;
  const byGuard = entry && entry.actor === 'guard';
  const breach = byGuard && verdict && verdict.status === 'breach' ? verdict.reasons : null;
  const why = breach
    ? breach.map((reason) => reason.message).join('; ')
    : (entry && entry.reason) ||
      (shown.kill.canary && !entry ? `set by hand in KV (${shown.kill.sources.hand})` : 'no reason given');
  const incident = series && series.incident;
  return { what, why, breach, entry, byGuard, incident };
}

/** Fills the banner (hidden when there is nothing to say). */
export function renderBanner(shown, series) {
  const box = $('incident');
  const summary = incidentSummary(shown, series);
  box.hidden = !summary;
  if (!summary) return;
  const { what, why, entry } = summary;
  fill(
    box,
    el('h2', { id: 'incident-title' }, el('span', { 'aria-hidden': 'true' }, '⚠ '), what),
    el(
      'p',
      {},
      el('strong', {}, 'Why: '),
      el('span', { id: 'incident-why' }, why),
      el('br'),
      el('strong', {}, 'When: '),
      entry ? `${new Date(entry.at).toLocaleString()} (v${entry.version})` : 'not in the recent audit log',
      el('br'),
      el('strong', {}, 'By: '),
      entry ? entry.actor : 'unknown',
    ),
  );
}

/**
 * The incident's steps in order: the breach the guard saw, its abort, the notice it sent with the
 * abort, and any undo after it. Other aborts, pauses and kills are listed with their actor.
 */
export function renderTimeline(shown, series) {
  const list = $('timeline');
  const summary = incidentSummary(shown, series);
  const steps = [];
  const abort = latest(['abort', 'kill', 'pause']);
  if (summary && summary.incident) {
    const incident = summary.incident;
    steps.push({
      at: incident.openedAt,
      what: 'breach',
      text: `the guard judged config v${incident.configVersion} at ${incident.percent} %: ${incident.reasons.join('; ')}`,
    });
  } else if (shown.guard && shown.guard.status === 'breach')
    steps.push({
      at: shown.guard.at,
      what: 'breach',
      text: shown.guard.reasons.map((r) => r.message).join('; '),
    });
  if (abort) {
    steps.push({
      at: abort.at,
      what: abort.action,
      text: `by ${abort.actor} → v${abort.version}${abort.reason ? `: ${abort.reason}` : ''}`,
    });
    if (abort.actor === 'guard' && abort.action === 'abort')
      steps.push({
        at: abort.at,
        what: 'notification',
        text: 'the guard sent its abort notice (webhook when set, and the error reporter) in the same run',
      });
    for (const undo of page.audit.filter((entry) => entry.action === 'undo' && entry.at > abort.at).reverse())
      steps.push({
        at: undo.at,
        what: 'undo',
        text: `by ${undo.actor} → v${undo.version}${undo.reason ? `: ${undo.reason}` : ''}`,
      });
  }
  $('timeline-card').hidden = steps.length === 0;
  fill(
    list,
    steps.map((step) =>
      el(
        'li',
        {},
        el('time', { datetime: step.at }, clock(step.at)),
        ' ',
        el('strong', {}, step.what),
        ' ',
        step.text,
      ),
    ),
  );
}

/**
 * The undo warning: after a guard abort, undo brings the canary it aborted back. Null when the
 * newest change is not a guard abort.
 */
export function undoWarning() {
  const newest = page.audit[0];
  if (!newest || newest.action !== 'abort' || newest.actor !== 'guard') return null;
  return `Warning: this brings back a canary the guard aborted (${newest.reason || 'no reason recorded'}). The guard will judge it again on its next run.`;
}

// ---- the verdict table, as `rollout verdict` prints it (src/guard/verdict-table.ts) ----

const formatValue = (value, unit) =>
  value === null || value === undefined
    ? '—'
    : unit === 'ms'
      ? `${Math.round(value)} ms`
      : `${value.toFixed(2)} %`;
const describeClass = (row) =>
  row.class !== 'underpowered' ? row.class : `inconclusive (underpowered): needs ${row.needs ?? '?'} more`;

/** The guard's paragraph and table. */
export function renderGuard(verdict) {
  const node = $('guard');
  const table = $('guard-table');
  const session = page.session;
  const lines = [];
  if (session && session.guard && !session.guard.configured)
    lines.push(el('strong', {}, 'Guard not configured: '), `${session.guard.how}.`, el('br'));
  if (!verdict) {
    lines.push('No verdict yet.');
    fill(node, lines);
    table.hidden = true;
    return;
  }
  lines.push(el('span', { class: `badge v-${verdict.status}` }, verdict.status), ' ');
  if (verdict.at) lines.push(`at ${clock(verdict.at)} `);
  if (verdict.reason) lines.push(verdict.reason);
  if (verdict.reasons) lines.push(verdict.reasons.map((r) => r.message || JSON.stringify(r)).join('; '));
  if (verdict.action && verdict.action.type) lines.push(el('br'), `action: ${verdict.action.type}`);
  fill(node, lines);
  const rows = Array.isArray(verdict.table) ? verdict.table : null;
  table.hidden = !rows;
  if (!rows) return;
  fill(
    table,
    el('caption', { class: 'muted' }, 'The guard’s last judgement, as `rollout verdict` prints it'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ['metric', 'canary', 'stable', 'fails when', 'samples', 'class'].map((h) =>
          el('th', { scope: 'col' }, h),
        ),
      ),
    ),
    el(
      'tbody',
      {},
      rows.map((row) => {
        const unit = row.unit === 'p' ? '%' : row.unit;
        const failsWhen = `${row.failsWhen === 'above' ? '>' : '<'} ${row.unit === 'p' ? `p ${row.threshold}` : `${row.threshold} ${row.unit}`}`;
        return el(
          'tr',
          { title: row.message || '' },
          el('th', { scope: 'row' }, row.metric),
          el('td', {}, formatValue(row.canary, unit)),
          el('td', {}, formatValue(row.stable, unit)),
          el('td', {}, failsWhen),
          el('td', {}, String(Math.round(row.samples))),
          el(
            'td',
            { class: row.class === 'fail' ? 'killed' : '' },
            `${row.class === 'fail' ? '✗ ' : row.class === 'pass' ? '✓ ' : ''}${describeClass(row)}${row.dryRun ? ' (dry run)' : ''}`,
          ),
        );
      }),
    ),
  );
}
