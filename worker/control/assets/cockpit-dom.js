// The cockpit's shared pieces: the page's state, the one way to call the admin API, and small
// DOM and formatting helpers. Every other module imports from here; this one imports nothing.

/** Where sessionStorage keeps the admin token: this origin only (the cockpit's own). */
export const TOKEN_KEY = 'edge-rollout-admin-token';

/** What the page knows, shared by its modules. */
export const page = {
  token: sessionStorage.getItem(TOKEN_KEY),
  /** The last GET /state body, and its ETag (the version every write names in If-Match). */
  shown: null,
  etag: null,
  /** GET /session: who is signed in, where this browser's own page is, the guard's setup. */
  session: null,
  /** The newest audit entries. */
  audit: [],
  /** GET /series: the charts' data, or why there is none. */
  series: null,
};

/** The admin API's base: the page is served at `<prefix>/`. */
export const base = location.pathname.replace(/[^/]*$/, '');

export const $ = (id) => document.getElementById(id);

/** One JSON call to the admin API, with the bearer when the page has a token. Never throws on HTTP errors. */
export async function api(method, path, body, headers = {}) {
  const init = { method, headers: { accept: 'application/json', ...headers }, cache: 'no-store' };
  if (page.token) init.headers.authorization = `Bearer ${page.token}`;
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(base + path, init);
  let data = null;
  if (response.status !== 304) data = await response.json().catch(() => null);
  return { status: response.status, etag: response.headers.get('etag'), data };
}

/** Builds an HTML element; children are strings (as text, never HTML) or nodes. */
export function el(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Builds an SVG element, the same way as {@link el}. */
export function svg(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === undefined || value === null) continue;
    if (key === 'class') node.setAttribute('class', value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat())
    if (child !== null && child !== undefined && child !== false)
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return node;
}

/** Replaces a node's children. */
export const fill = (node, ...children) => {
  node.replaceChildren();
  for (const child of children.flat())
    if (child !== null && child !== undefined && child !== false) node.append(child);
};

export const pct = (n) => `${Number(Number(n).toFixed(2))} %`;
export const clock = (iso) =>
  new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
export const hhmm = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
export const ago = (ms) => {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
};

/** A measured value as the CLI prints it: up to three decimals, with its unit. */
export const measured = (value, unit) =>
  value === null || value === undefined
    ? '–'
    : `${Number(Number(value).toFixed(unit === 'ms' ? 0 : 3))} ${unit}`;
