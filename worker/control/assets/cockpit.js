// The edge-rollout cockpit: reads the admin API of the Worker that served it and acts through
// it. No framework, no external request, no inline code (the page's CSP forbids both). Every
// write names the version the page showed (If-Match); a 412 is shown, never retried.
'use strict';

(() => {
  const TOKEN_KEY = 'edge-rollout-admin-token';
  const POLL_MS = 5000;
  const base = location.pathname.replace(/[^/]*$/, '');
  const $ = (id) => document.getElementById(id);

  let token = sessionStorage.getItem(TOKEN_KEY);
  let shown = null; // the last GET /state body
  let etag = null;
  let session = null;
  let audit = [];
  let fetchedAt = 0;
  let failure = null;
  let pending = null; // the action being confirmed
  let pollTimer = 0;

  /** One JSON call to the admin API, with the bearer when the page has a token. */
  async function api(method, path, body, headers = {}) {
    const init = { method, headers: { accept: 'application/json', ...headers }, cache: 'no-store' };
    if (token) init.headers.authorization = `Bearer ${token}`;
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(base + path, init);
    let data = null;
    if (response.status !== 304) data = await response.json().catch(() => null);
    return { status: response.status, etag: response.headers.get('etag'), data };
  }

  /** Builds an element; children are strings (as text, never HTML) or nodes. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === false || value === undefined || value === null) continue;
      if (key === 'class') node.className = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat())
      if (child !== null && child !== undefined && child !== false)
        node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    return node;
  }

  const fill = (node, ...children) => {
    node.replaceChildren();
    for (const child of children.flat())
      if (child !== null && child !== undefined) node.append(typeof child === 'string' ? child : child);
  };
  const pct = (n) => `${Number(Number(n).toFixed(2))} %`;
  const clock = (iso) =>
    new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const ago = (ms) => {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 90) return `${s} s`;
    if (s < 5400) return `${Math.round(s / 60)} min`;
    return `${Math.round(s / 3600)} h`;
  };

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
      const headers = etag ? { 'if-none-match': etag } : {};
      const state = await api('GET', 'state', undefined, headers);
      if (state.status === 401) return showLogin(token ? 'The token was refused.' : '');
      if (state.status === 304) {
        fetchedAt = Date.now();
        failure = null;
      } else if (state.status === 200 && state.data) {
        const changed = state.etag !== etag || !shown;
        shown = state.data;
        etag = state.etag;
        fetchedAt = Date.now();
        failure = null;
        if (changed) await Promise.all([loadAudit(), loadSession()]);
        render();
      } else {
        failure = (state.data && state.data.error) || `HTTP ${state.status}`;
      }
    } catch (error) {
      failure = `network: ${error.message}`;
    }
    showAge();
    pollTimer = setTimeout(refresh, POLL_MS);
  }

  async function loadAudit() {
    const page = await api('GET', 'audit?limit=20');
    if (page.status === 200 && page.data) audit = page.data.entries || [];
  }

  async function loadSession() {
    const answer = await api('GET', 'session');
    if (answer.status === 200 && answer.data) session = answer.data;
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
    $('login').hidden = true;
    $('app').hidden = false;
    $('signout').hidden = !token;
    const config = shown.config;
    const rollout = config.rollout;
    const stateBadge = $('state');
    stateBadge.textContent = shown.state;
    stateBadge.className = `badge s-${shown.state}`;
    $('percent').textContent = `${pct(shown.percent)} canary`;
    $('version').textContent = String(shown.version);
    $('salt').textContent = rollout.salt;
    $('next').textContent = nextStep(rollout, shown.state);
    const last = audit[0];
    $('last').textContent = last
      ? `${last.action} by ${last.actor} at ${clock(last.at)} (v${last.version})${last.reason ? `: ${last.reason}` : ''}`
      : 'none yet';
    $('propagation').textContent = propagation(shown.replica, shown.source);
    if (document.activeElement !== $('percent-input')) $('percent-input').value = String(shown.percent);
    renderTransitions(shown.state);
    renderKill(shown.kill);
    renderGuard(shown.guard);
    renderFlags(config.flags);
    renderVisitor();
    renderAudit();
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

  const ALLOWED = {
    promote: ['ramping', 'paused'],
    pause: ['ramping'],
    resume: ['paused'],
    abort: ['ramping', 'paused', 'promoted'],
    finalize: ['promoted'],
    undo: null,
  };

  function renderTransitions(state) {
    const box = $('transitions');
    if (!box.childElementCount)
      for (const name of Object.keys(ALLOWED))
        box.append(
          el(
            'button',
            {
              type: 'button',
              id: `do-${name}`,
              class: name === 'abort' ? 'danger' : '',
              onclick: () => transition(name),
            },
            name[0].toUpperCase() + name.slice(1),
          ),
        );
    for (const [name, states] of Object.entries(ALLOWED))
      $(`do-${name}`).disabled = !!states && !states.includes(state);
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

  function renderGuard(verdict) {
    const node = $('guard');
    const table = $('guard-table');
    const notConfigured = session && session.guard && !session.guard.configured;
    const lines = [];
    if (notConfigured)
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
    const value = (v, unit) =>
      v === null || v === undefined
        ? '–'
        : `${Number(Number(v).toFixed(3))}${unit === 'p' ? '' : ` ${unit}`}`;
    fill(
      table,
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ['metric', 'canary', 'stable', 'threshold', 'samples', 'result'].map((h) => el('th', {}, h)),
        ),
      ),
      el(
        'tbody',
        {},
        rows.map((row) =>
          el(
            'tr',
            { title: row.message || '' },
            el('td', {}, row.metric),
            el('td', {}, value(row.canary, row.unit)),
            el('td', {}, value(row.stable, row.unit)),
            el('td', {}, `${row.failsWhen === 'below' ? '≥' : '≤'} ${value(row.threshold, row.unit)}`),
            el('td', {}, String(row.samples ?? '')),
            el(
              'td',
              { class: row.class === 'fail' ? 'killed' : '' },
              `${row.class}${row.dryRun ? ' (dry run)' : ''}`,
            ),
          ),
        ),
      ),
    );
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
          ['flag', 'rule', 'default', ''].map((h) => el('th', {}, h)),
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
            el('td', {}, name),
            el('td', {}, flag.enabled ? `on for ${pct(flag.percent)}` : 'off'),
            el('td', {}, flag.default ? 'on' : 'off'),
            el(
              'td',
              {},
              input,
              ' ',
              el(
                'button',
                { type: 'button', onclick: () => flagChange(name, true, Number(input.value)) },
                'Set on',
              ),
              ' ',
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

  function renderVisitor() {
    const node = $('visitor');
    if (!session) return fill(node, 'Unknown.');
    if (session.actor) fill(node, `Signed in as ${session.actor}. `);
    else fill(node);
    const visitor = session.visitor;
    if (!visitor) {
      node.append(`This browser has no ${session.visitorCookie} cookie yet: open the app once to get one.`);
      return;
    }
    const flags = Object.entries(visitor.flags)
      .map(([name, on]) => `${name} ${on ? 'on' : 'off'}`)
      .join(', ');
    node.append(
      `This browser (${visitor.source}) is in `,
      el('strong', {}, visitor.cohort),
      ` (bucket ${visitor.bucket}, ${visitor.reason}). Flags: ${flags || 'none'}.`,
    );
  }

  function renderAudit() {
    fill(
      $('audit'),
      audit.length
        ? audit.map((entry) =>
            el(
              'li',
              {},
              el('time', { datetime: entry.at }, new Date(entry.at).toLocaleString()),
              el('strong', {}, entry.action),
              ` by ${entry.actor} → v${entry.version}`,
              entry.reason ? ` — ${entry.reason}` : '',
            ),
          )
        : el('li', {}, 'No changes yet.'),
    );
  }

  // ---- acting: preview, confirm, write with If-Match ----

  const reasonBody = () => {
    const reason = $('reason').value.trim();
    return reason ? { reason } : {};
  };

  function transition(name) {
    act(`${name[0].toUpperCase()}${name.slice(1)}`, { transition: name }, 'POST', name, reasonBody());
  }

  function flagChange(name, enabled, percent) {
    const change = enabled ? { enabled, percent } : { enabled };
    act(
      `Flag ${name} ${enabled ? `on for ${pct(percent)}` : 'off'}`,
      { flag: name, ...change },
      'PUT',
      `flags/${encodeURIComponent(name)}`,
      { ...change, ...reasonBody() },
    );
  }

  async function act(title, previewBody, method, path, body) {
    const version = shown.version;
    pending = { title, method, path, body, version };
    $('conflict').hidden = true;
    $('notice').hidden = true;
    $('confirm').hidden = false;
    $('confirm-title').textContent = `${title}: what it moves`;
    fill($('confirm-lines'), el('li', {}, 'Computing…'));
    $('confirm-error').textContent = '';
    $('confirm-yes').disabled = true;
    const answer = await api('POST', 'preview', previewBody, { 'if-match': `"${version}"` }).catch(
      (error) => ({
        status: 0,
        data: { error: error.message },
      }),
    );
    if (pending === null || pending.version !== version || pending.title !== title) return;
    if (answer.status === 412) return conflict(version);
    if (answer.status !== 200) {
      fill($('confirm-lines'));
      $('confirm-error').textContent = describeError(answer);
      return;
    }
    const preview = answer.data.preview;
    fill(
      $('confirm-lines'),
      preview.summary.map((line) => el('li', {}, line)),
      answer.data.changed ? null : el('li', {}, 'This changes nothing: no new version would be written.'),
    );
    $('confirm-title').textContent = `${title}: version ${version} → ${answer.data.version}`;
    $('confirm-yes').disabled = !answer.data.changed;
    $('confirm-yes').focus();
  }

  async function confirmPending() {
    if (!pending) return;
    const { method, path, body, version, title } = pending;
    $('confirm-yes').disabled = true;
    const answer = await api(method, path, body, { 'if-match': `"${version}"` }).catch((error) => ({
      status: 0,
      data: { error: error.message },
    }));
    if (answer.status === 412) return conflict(version);
    closeConfirm();
    if (answer.status !== 200) return notice(`${title} refused: ${describeError(answer)}`);
    notice(
      `${title}: done, now version ${answer.data.version}.${answer.data.warning ? ` ${answer.data.warning}.` : ''}`,
    );
    etag = null;
    await refresh();
  }

  function conflict(version) {
    closeConfirm();
    $('conflict-text').textContent =
      ` The config is no longer version ${version}, so nothing was changed. Reload to see what changed, then decide again.`;
    $('conflict').hidden = false;
    $('reload').focus();
  }

  function closeConfirm() {
    pending = null;
    $('confirm').hidden = true;
  }

  function notice(text) {
    $('notice').textContent = text;
    $('notice').hidden = false;
  }

  function describeError(answer) {
    const data = answer.data || {};
    const issues = Array.isArray(data.issues) ? ` (${data.issues.join('; ')})` : '';
    return `${data.error || `HTTP ${answer.status}`}${issues}`;
  }

  // Parses the API kill text enough to keep what it holds when adding the canary to it.
  function apiKillWithCanary() {
    const text = (shown.kill.sources && shown.kill.sources.api) || '';
    const tokens = text.split(/[\s,]+/).filter(Boolean);
    const flags = tokens.filter((t) => t.startsWith('flag:')).map((t) => t.slice(5));
    return {
      canary: true,
      ...(tokens.includes('flags') || tokens.includes('all') ? { allFlags: true } : {}),
      ...(flags.length ? { flags } : {}),
    };
  }

  // ---- wiring ----

  $('login').addEventListener('submit', (event) => {
    event.preventDefault();
    token = $('token').value.trim();
    $('token').value = '';
    sessionStorage.setItem(TOKEN_KEY, token);
    etag = null;
    refresh();
  });
  $('signout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  });
  $('set-percent').addEventListener('submit', (event) => {
    event.preventDefault();
    const percent = Number($('percent-input').value);
    act(`Set the canary to ${pct(percent)}`, { percent }, 'PUT', 'percent', { percent, ...reasonBody() });
  });
  $('kill-canary').addEventListener('click', () => {
    const request = apiKillWithCanary();
    act('Kill the canary', { kill: request }, 'PUT', 'kill', { ...request, ...reasonBody() });
  });
  $('kill-off').addEventListener('click', () =>
    act('Lift the kill switch', { kill: 'off' }, 'DELETE', 'kill', reasonBody()),
  );
  $('confirm-yes').addEventListener('click', confirmPending);
  $('confirm-no').addEventListener('click', closeConfirm);
  $('reload').addEventListener('click', () => {
    $('conflict').hidden = true;
    etag = null;
    refresh();
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refresh();
  });
  setInterval(showAge, 1000);
  refresh();
})();
