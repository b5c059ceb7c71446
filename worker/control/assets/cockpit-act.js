// Acting: every change is previewed first (what it moves), confirmed, and written with the
// version the page showed (If-Match). A 412 is shown, never retried.
import { $, api, el, fill, page, pct } from './cockpit-dom.js';
import { undoWarning } from './cockpit-incident.js';

let pending = null; // the action being confirmed
let afterWrite = async () => {};

/** Which transitions each state allows (the buttons are disabled otherwise). */
const ALLOWED = {
  promote: ['ramping', 'paused'],
  pause: ['ramping'],
  resume: ['paused'],
  abort: ['ramping', 'paused', 'promoted'],
  finalize: ['promoted'],
  undo: null,
};

/** Builds the transition buttons once, then enables those the state allows. */
export function renderTransitions(state) {
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

const reasonBody = () => {
  const reason = $('reason').value.trim();
  return reason ? { reason } : {};
};

function transition(name) {
  act(
    `${name[0].toUpperCase()}${name.slice(1)}`,
    { transition: name },
    'POST',
    name,
    reasonBody(),
    name === 'undo' ? undoWarning() : null,
  );
}

/** Starts a flag change (on for a percent, or off). */
export function flagChange(name, enabled, percent) {
  const change = enabled ? { enabled, percent } : { enabled };
  act(
    `Flag ${name} ${enabled ? `on for ${pct(percent)}` : 'off'}`,
    { flag: name, ...change },
    'PUT',
    `flags/${encodeURIComponent(name)}`,
    {
      ...change,
      ...reasonBody(),
    },
  );
}

async function act(title, previewBody, method, path, body, warning = null) {
  const version = page.shown.version;
  pending = { title, method, path, body, version };
  $('conflict').hidden = true;
  $('notice').hidden = true;
  $('confirm').hidden = false;
  $('confirm-title').textContent = `${title}: what it moves`;
  fill($('confirm-lines'), el('li', {}, 'Computing…'));
  $('confirm-error').textContent = '';
  $('confirm-warning').textContent = warning ?? '';
  $('confirm-warning').hidden = !warning;
  $('confirm-yes').disabled = true;
  const answer = await api('POST', 'preview', previewBody, { 'if-match': `"${version}"` }).catch((error) => ({
    status: 0,
    data: { error: error.message },
  }));
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
  page.etag = null;
  await afterWrite();
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
  const text = (page.shown.kill.sources && page.shown.kill.sources.api) || '';
  const tokens = text.split(/[\s,]+/).filter(Boolean);
  const flags = tokens.filter((t) => t.startsWith('flag:')).map((t) => t.slice(5));
  return {
    canary: true,
    ...(tokens.includes('flags') || tokens.includes('all') ? { allFlags: true } : {}),
    ...(flags.length ? { flags } : {}),
  };
}

/** Wires the forms and buttons; `refresh` runs after each accepted write and on Reload. */
export function wireActions(refresh) {
  afterWrite = refresh;
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
  // Escape cancels a pending confirmation wherever the focus is.
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !$('confirm').hidden) closeConfirm();
  });
  $('reload').addEventListener('click', () => {
    $('conflict').hidden = true;
    page.etag = null;
    refresh();
  });
}
