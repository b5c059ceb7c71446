import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback, type LoopbackServer } from './loopback-server';
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';

/** What an echo origin reports about the request it received. */
export interface EchoBody {
  origin: string;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
}

/**
 * A real HTTP origin on 127.0.0.1 for tests. By path:
 * `/status/NNN` answers NNN; `/hang` never answers; `/reset` drops the connection;
 * `/redirect` answers 302 to its own absolute URL; `/cookies` sets two cookies; `/html` serves a
 * page; `/slow-html` sends its headers at once and its page in four parts 250 ms apart; `/cache` answers `Cache-Control: public, max-age=600`;
 * `/html-charset/LABEL` serves a page in that charset label; `/html-csp` a page whose CSP allows
 * scripts by nonce (`r4nd0mN0nce`); `/rollout-headers` sets `x-rollout-internal` and a forged
 * `x-rollout-cohort`; `/switch-no-socket` answers 101 with no WebSocket; anything else echoes the
 * request as JSON. Request bodies are counted while streaming, never buffered.
 */
export async function startEchoOrigin(name: string): Promise<LoopbackServer> {
  // A request whose body the client (or the Worker) aborted rejects while it is read: that ends
  // the exchange, never the test run.
  const server = createServer((req, res) => void handle(name, req, res).catch(() => req.socket.destroy()));
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => greetWebSocket(name, req, socket));
  return listenOnLoopback(server);
}

async function handle(name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let bodyBytes = 0;
  for await (const chunk of req) bodyBytes += (chunk as Buffer).length;
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  const status = /^\/status\/(\d{3})$/.exec(url.pathname);
  if (status) return json(res, Number(status[1]), { origin: name, status: Number(status[1]) });
  const charset = /^\/html-charset\/([^/]+)$/.exec(url.pathname);
  if (charset) {
    res.writeHead(200, { 'content-type': `text/html; charset=${decodeURIComponent(charset[1]!)}` });
    res.end(`<!doctype html><html><head><title>${name}</title></head><body>${name}</body></html>`);
    return;
  }
  switch (url.pathname) {
    case '/hang':
      return; // never answers: the Worker's timeout must fire
    case '/reset':
      req.socket.destroy();
      return;
    case '/redirect':
      res.writeHead(302, { location: `http://${req.headers.host}/landing?from=${name}` }).end();
      return;
    case '/cookies':
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
      return json(res, 200, { origin: name });
    case '/html':
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><title>${name}</title></head><body>${name}</body></html>`);
      return;
    case '/html-csp':
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'self'; script-src 'nonce-r4nd0mN0nce' 'strict-dynamic'",
      });
      res.end(`<!doctype html><html><head><title>${name}</title></head><body>${name}</body></html>`);
      return;
    case '/rollout-headers':
      res.setHeader('x-rollout-internal', 'origin-secret');
      res.setHeader('x-rollout-cohort', 'forged');
      return json(res, 200, { origin: name });
    case '/switch-no-socket':
      // A 101 with no upgrade asked for and no WebSocket after it: a confused origin.
      req.socket.end('HTTP/1.1 101 Switching Protocols\r\nConnection: close\r\n\r\n');
      return;
    case '/cache':
      res.setHeader('cache-control', 'public, max-age=600, s-maxage=3600');
      return json(res, 200, { origin: name });
    case '/slow-html': {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.write(`<!doctype html><html><head><title>${name}</title></head><body>`);
      for (const part of ['one', 'two', 'three']) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        res.write(`<p>${part}</p>`);
      }
      res.end('<p>end</p></body></html>');
      return;
    }
  }
  const body: EchoBody = {
    origin: name,
    method: req.method ?? '',
    path: url.pathname,
    query: url.search,
    headers: req.headers,
    bodyBytes,
  };
  json(res, 200, body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    connection: 'x-origin-private',
    'x-origin-private': 'hop',
  });
  res.end(JSON.stringify(body));
}

/** Completes a WebSocket handshake (RFC 6455) and sends one unmasked text frame. */
function greetWebSocket(name: string, req: IncomingMessage, socket: Socket): void {
  const key = String(req.headers['sec-websocket-key'] ?? '');
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  const payload = Buffer.from(`hello from ${name}`);
  socket.write(Buffer.concat([Buffer.from([0x81, payload.length]), payload]));
  socket.on('error', () => socket.destroy());
  socket.on('data', () => {}); // client frames are not interpreted
}
