// A stand-in for one deployment of the invoicing app: a page that shows which version served
// it, the cohort the Worker assigned and the flags it injected, plus the four business routes.
import { createServer } from 'node:http';

const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Starts a demo origin on 127.0.0.1. With `failPercent`, that share of its requests (spread
 * evenly, not at random, so a run is repeatable) answers 503: a broken release, for the
 * `bad-canary` scenario. The Worker fails GETs over to stable, so visitors still get a page.
 * @param {{ version: string, color: string, port?: number, failPercent?: number }} options
 * @returns {Promise<{ port: number, close: () => Promise<void> }>}
 */
export async function startDemoOrigin({ version, color, port = 0, failPercent = 0 }) {
  let served = 0;
  const server = createServer((req, res) => {
    served++;
    if (Math.floor((served * failPercent) / 100) !== Math.floor(((served - 1) * failPercent) / 100)) {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ error: 'this release is failing (demo scenario bad-canary)', version }));
      return;
    }
    const cohort = req.headers['x-rollout-cohort'] ?? '(none)';
    const flagsHeader = req.headers['x-feature-flags'] ?? '{}';
    req.resume();
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://origin').pathname;
      if (
        req.method === 'POST' &&
        /^\/api\/(invoices|files|templates\/[^/]+\/use|invoices\/[^/]+\/send)$/.test(path)
      ) {
        res.writeHead(path === '/api/invoices' || path === '/api/files' ? 201 : 200, {
          'content-type': 'application/json',
        });
        res.end(JSON.stringify({ ok: true, version, path }));
        return;
      }
      let flags = {};
      try {
        flags = JSON.parse(String(flagsHeader));
      } catch {
        flags = { error: 'unreadable x-feature-flags' };
      }
      const rows = Object.entries(flags)
        .map(([name, on]) => `<li><code>${escapeHtml(name)}</code>: <b>${on ? 'on' : 'off'}</b></li>`)
        .join('');
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'public, max-age=60',
      });
      res.end(`<!doctype html><html><head><title>Invoicing ${version}</title></head>
<body style="font-family: system-ui; margin: 3rem; border-top: 1rem solid ${color}">
<h1>Invoicing app ${escapeHtml(version)}</h1>
<p>Cohort assigned by edge-rollout: <b>${escapeHtml(String(cohort))}</b></p>
<p>Feature flags received in <code>x-feature-flags</code>:</p><ul>${rows}</ul>
<p>In the browser, <code>window.__FLAGS__</code> holds the same flags.</p>
</body></html>`);
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
