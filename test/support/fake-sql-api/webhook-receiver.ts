import { createServer } from 'node:http';
import { listenOnLoopback, type LoopbackServer } from '../loopback/loopback-server';

/**
 * A Slack-style incoming webhook on 127.0.0.1 for tests. `POST /hooks/<id>` records the JSON body
 * and answers 200 `ok` (or the status set with `PUT /__control/hooks/<id>` `{ "status": 500 }`);
 * `GET /__control/hooks/<id>` returns the bodies received, oldest first. Ids keep parallel test
 * files apart.
 */
export async function startWebhookReceiver(): Promise<LoopbackServer> {
  const calls = new Map<string, unknown[]>();
  const statuses = new Map<string, number>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const control = /^\/__control\/hooks\/([^/]+)$/.exec(path);
    if (control && req.method === 'GET') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(calls.get(control[1]!) ?? []));
      return;
    }
    if (control && req.method === 'PUT') {
      statuses.set(control[1]!, (JSON.parse(body) as { status: number }).status);
      res.writeHead(204).end();
      return;
    }
    const hook = /^\/hooks\/([^/]+)$/.exec(path);
    if (!hook || req.method !== 'POST') {
      res.writeHead(404).end('no_service');
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      res.writeHead(400).end('invalid_payload');
      return;
    }
    calls.set(hook[1]!, [...(calls.get(hook[1]!) ?? []), parsed]);
    const status = statuses.get(hook[1]!) ?? 200;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'failure');
  });
  return listenOnLoopback(server);
}
