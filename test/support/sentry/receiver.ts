import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One envelope as received: the raw text (to search for secrets) and its parsed items. */
export interface ReceivedEnvelope {
  project: string;
  /** The `x-sentry-auth` header, or else the `sentry_key` query parameter (the public key). */
  auth: string;
  raw: string;
  header: Record<string, unknown>;
  items: { header: Record<string, unknown>; payload: unknown }[];
}

/**
 * A Sentry-compatible receiver on 127.0.0.1: it accepts envelopes on
 * `POST /api/<project>/envelope/` (the path a DSN `http://key@127.0.0.1:PORT/<project>` sends
 * to), parses them, and lists them on `GET /received/<project>` for tests to assert on.
 */
export async function startSentryReceiver(): Promise<{ port: number; close(): Promise<void> }> {
  const envelopes: ReceivedEnvelope[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const envelopePath = /^\/api\/([^/]+)\/envelope\/?$/.exec(url.pathname);
      if (req.method === 'POST' && envelopePath) {
        const body = await readBody(req);
        const raw = body.toString('utf8');
        const parsed = parseEnvelope(body);
        envelopes.push({
          project: envelopePath[1]!,
          auth: String(req.headers['x-sentry-auth'] ?? url.searchParams.get('sentry_key') ?? ''),
          raw,
          ...parsed,
        });
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ id: parsed.header.event_id }));
        return;
      }
      const listPath = /^\/received\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && listPath) {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify(envelopes.filter((envelope) => envelope.project === listPath[1])));
        return;
      }
      res.writeHead(404).end();
    })().catch((error) => res.writeHead(500).end(String(error)));
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

/** Parses Sentry's envelope format: a header line, then (item header line, payload) pairs. */
export function parseEnvelope(body: Buffer): Pick<ReceivedEnvelope, 'header' | 'items'> {
  let offset = 0;
  const readLine = (): string => {
    const end = body.indexOf(0x0a, offset);
    const line = body.subarray(offset, end === -1 ? body.length : end).toString('utf8');
    offset = end === -1 ? body.length : end + 1;
    return line;
  };
  const header = JSON.parse(readLine()) as Record<string, unknown>;
  const items: ReceivedEnvelope['items'] = [];
  while (offset < body.length) {
    const line = readLine();
    if (line.trim() === '') continue;
    const itemHeader = JSON.parse(line) as Record<string, unknown>;
    let payloadText: string;
    if (typeof itemHeader.length === 'number') {
      payloadText = body.subarray(offset, offset + itemHeader.length).toString('utf8');
      offset += itemHeader.length + 1;
    } else payloadText = readLine();
    let payload: unknown = payloadText;
    try {
      payload = JSON.parse(payloadText);
    } catch {
      // Attachments and other binary items stay text.
    }
    items.push({ header: itemHeader, payload });
  }
  return { header, items };
}
