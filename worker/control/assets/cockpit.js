// The edge-rollout cockpit: reads the admin API of the Worker that served it and acts through
// it. No framework, no external request, no inline code (the page's CSP forbids both). This file
// reads and renders the state; cockpit-act.js writes, cockpit-charts.js draws the last hour,
// cockpit-incident.js tells the incident, cockpit-dom.js holds what they share.
import { wireActions, flagChange, renderTransitions } from './cockpit-act.js';
import { renderCharts } from './cockpit-charts.js';
import { $, ago, api, clock, el, fill, page, pct, TOKEN_KEY } from './cockpit-dom.js';
import { renderBanner, renderGuard, renderTimeline } from './cockpit-incident.js';

const POLL_MS = 5000;
// The series route keeps its answer 15 s for every viewer: polling faster would read the same.
const SERIES_MS = 15_000;

let fetchedAt = 0;
let failure = null;
let pollTimer = 0;
let seriesAt = 0;

function showLogin(message) {
  $('app').hidden = true;
  $('signout').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('age').textContent = 'Not signed in';
  $('token').focus();
}

// ---- reading ----

async function refresh() {
  clearTimeout(pollTimer);
  try {
    const headers = page.etag ? { 'if-none-match': page.etag } : {};
    const state = await api('GET', 'state', undefined, headers);
    if (state.status === 401) return showLogin(page.token ? 'The token was refused.' : '');
    if (state.status === 304) {
      fetchedAt = Date.now();
      failure = null;
    } else if (state.status === 200 && state.data) {
      const changed = state.etag !== page.etag || !page.shown;
      page.shown = state.data;
      page.etag = state.etag;
      fetchedAt = Date.now();
      failure = null;
      if (changed) await Promise.all([loadAudit(), loadSession(), loadSeries()]);
      render();
    } else {
      failure = (state.data && state.data.error) || `HTTP ${state.status}`;
    }
    if (Date.now() - seriesAt >= SERIES_MS && page.shown) {
      await loadSeries();
      renderLastHour();
    }
  } catch (error) {
    failure = `network: ${error.message}`;
  }
  showAge();
  pollTimer = setTimeout(refresh, POLL_MS);
}

async function loadAudit() {
  const answer = await api('GET', 'audit?limit=50');
  if (answer.status === 200 && answer.data) page.audit = answer.data.entries || [];
}

async function loadSession() {
  const answer = await api('GET', 'session');
  if (answer.status === 200 && answer.data) page.session = answer.data;
}

async function loadSeries() {
  seriesAt = Date.now();
  const answer = await api('GET', 'series?minutes=60');
  if (answer.status === 200 && answer.data) page.series = answer.data;
  else
    page.series = { available: false, reason: (answer.data && answer.data.error) || `HTTP ${answer.status}` };
}

function showAge() {
  if (!fetchedAt) return;
  const age = `${ago(Date.now() - fetchedAt)} old`;
  $('age').textContent = failure
    ? `Update failed (${failure}); showing data ${age}`
    : `Data as of ${new Date(fetchedAt).toLocaleTimeString()} (${age}); refreshes every ${POLL_MS / 1000} s`;
}

// ---- rendering ----

function render() {
  const shown = page.shown;
  $('login').hidden = true;
  $('app').hidden = false;
  $('signout').hidden = !page.token;
  const rollout = shown.config.rollout;
  const stateBadge = $('state');
  stateBadge.textContent = shown.state;
  stateBadge.className = `badge s-${shown.state}`;
  $('percent').textContent = `${pct(shown.percent)} canary`;
  $('version').textContent = String(shown.version);
  $('salt').textContent = rollout.salt;
  $('next').textContent = nextStep(rollout, shown.state);
  const last = page.audit[0];
  $('last').textContent = last
    ? `${last.action} by ${last.actor} at ${clock(last.at)} (v${last.version})${last.reason ? `: ${last.reason}` : ''}`
    : 'none yet';
  $('propagation').textContent = propagation(shown.replica, shown.source);
  if (document.activeElement !== $('percent-input')) $('percent-input').value = String(shown.percent);
  renderTransitions(shown.state);
  renderKill(shown.kill);
  renderGuard(shown.guard);
  renderFlags(shown.config.flags);
  renderWho();
  renderAudit();
  renderLastHour();
}

function renderLastHour() {
  renderBanner(page.shown, page.series);
  renderTimeline(page.shown, page.series);
  renderCharts($('charts'), page.series);
}

function nextStep(rollout, state) {
  const steps = rollout.steps || [];
  if (!steps.length) return 'no step schedule: ramps are set by hand';
  const next = steps.find((step) => step > rollout.percent);
  if (next === undefined) return `schedule ${steps.map(pct).join(' → ')}: last step reached`;
  if (state !== 'ramping') return `${pct(next)} when ramping (now ${state})`;
  if (!rollout.stepStartedAt) return `${pct(next)} after ${rollout.bakeMinutes} min healthy`;
  const due = Date.parse(rollout.stepStartedAt) + rollout.bakeMinutes * 60_000;
  const wait = due - Date.now();
  return `${pct(next)} at ${new Date(due).toLocaleTimeString()} (${wait > 0 ? `in ${ago(wait)}` : 'due now'}) if the guard finds it healthy`;
}

function propagation(replica, source) {
  if (source === 'safe-default')
    return 'KV holds no config yet: every location serves the safe default (all stable)';
  if (source === 'last-known-good')
    return 'the config in KV is invalid: locations serve their last known good config';
  if (!replica) return 'not reported';
  const kv = replica.kvVersion ?? replica.replicatedVersion;
  if (replica.lagging)
    return `KV replica behind: holds v${kv ?? '–'}, committed v${replica.committedVersion}; retrying (${replica.failedAttempts} failed)${replica.lastError ? `: ${replica.lastError}` : ''}`;
  return `KV holds v${kv ?? '–'} (committed v${replica.committedVersion}); every location within ~60 s + the config cache`;
}

function renderKill(kill) {
  const sources = kill.sources || { api: kill.raw, hand: null };
  const parts = [];
  if (kill.canary) parts.push('canary killed: everyone on stable');
  if (kill.allFlags) parts.push('every flag off');
  if (kill.flags.length) parts.push(`flags off: ${kill.flags.join(', ')}`);
  const node = $('kill');
  node.className = parts.length ? 'killed' : '';
  fill(
    node,
    parts.length ? parts.join('; ') : 'off',
    el('br'),
    el(
      'span',
      { class: 'muted' },
      `API: ${sources.api || 'none'} · set by hand in KV: ${sources.hand || 'none'}`,
    ),
    sources.hand
      ? el('span', { class: 'muted' }, ' (only `wrangler kv key delete` lifts the hand-set one)')
      : null,
  );
  $('kill-canary').disabled = kill.canary && !!sources.api && /\bcanary\b|\ball\b/.test(sources.api);
  $('kill-off').disabled = !sources.api;
}

function renderFlags(flags) {
  const names = Object.keys(flags).sort();
  fill(
    $('flags'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ['flag', 'rule', 'default', 'change'].map((h) => el('th', { scope: 'col' }, h)),
      ),
    ),
    el(
      'tbody',
      {},
      names.map((name) => {
        const flag = flags[name];
        const input = el('input', {
          type: 'number',
          min: 0,
          max: 100,
          step: 0.01,
          value: flag.percent,
          'aria-label': `${name} percent`,
        });
        return el(
          'tr',
          {},
          el('th', { scope: 'row' }, name),
          el('td', {}, flag.enabled ? `on for ${pct(flag.percent)}` : 'off'),
          el('td', {}, flag.default ? 'on' : 'off'),
          el(
            'td',
            { class: 'flag-change' },
            input,
            el(
              'button',
              { type: 'button', onclick: () => flagChange(name, true, Number(input.value)) },
              'Set on',
            ),
            el(
              'button',
              { type: 'button', disabled: !flag.enabled, onclick: () => flagChange(name, false) },
              'Off',
            ),
          ),
        );
      }),
    ),
  );
}

/** Who is signed in, and where this browser's own cohort is: a page of the app's host. */
function renderWho() {
  const session = page.session;
  $('who').textContent = session && session.actor ? `Signed in as ${session.actor}` : '';
  const node = $('visitor');
  if (!session) return fill(node, 'Unknown.');
  fill(
    node,
    'The cockpit runs on its own origin and never sees the app’s visitor cookie. To see the cohort, flags and QA override of a browser, open ',
    el('code', {}, session.mePath),
    ' on the app’s host in that browser',
    appHostLink(session.mePath),
    '. That page needs no credential and shows only its own browser.',
  );
}

// Locally the cockpit is `cockpit.localhost:PORT` and the app `127.0.0.1:PORT`; elsewhere the
// app's host is not known here, so no link is guessed.
function appHostLink(path) {
  if (location.hostname !== 'cockpit.localhost') return null;
  const href = `${location.protocol}//127.0.0.1${location.port ? `:${location.port}` : ''}${path}`;
  return [' (here: ', el('a', { href, rel: 'noopener noreferrer' }, href), ')'];
}

function renderAudit() {
  fill(
    $('audit'),
    page.audit.length
      ? page.audit
          .slice(0, 20)
          .map((entry) =>
            el(
              'li',
              {},
              el('time', { datetime: entry.at }, new Date(entry.at).toLocaleString()),
              ' ',
              el('strong', {}, entry.action),
              ` by ${entry.actor} → v${entry.version}`,
              entry.reason ? ` — ${entry.reason}` : '',
            ),
          )
      : el('li', {}, 'No changes yet.'),
  );
}

// ---- wiring ----

$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  page.token = $('token').value.trim();
  $('token').value = '';
  sessionStorage.setItem(TOKEN_KEY, page.token);
  page.etag = null;
  refresh();
});
$('signout').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
});
wireActions(refresh);
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) refresh();
});
let resizeTimer = 0;
let drawnWidth = 0;
addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    const width = $('charts').clientWidth;
    if (page.shown && width !== drawnWidth) {
      drawnWidth = width;
      renderCharts($('charts'), page.series);
    }
  }, 150);
});
setInterval(showAge, 1000);
refresh();
