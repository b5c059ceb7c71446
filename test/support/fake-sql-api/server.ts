import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback, type LoopbackServer } from '../loopback/loopback-server';

/** What the fake answers to one query. */
export interface FakeSqlAnswer {
  status?: number;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (for malformed answers); wins over `json`. */
  body?: string;
  /** Never answer: the client's timeout must fire. */
  hang?: boolean;
}

/** Answers a query whose SQL equals `sql`, or contains `sqlIncludes`, or any query. */
export interface FakeSqlRule {
  sql?: string;
  sqlIncludes?: string;
  answer: FakeSqlAnswer;
}

/** One account's script: the token it accepts and its rules, first match wins. */
export interface FakeSqlScript {
  token: string;
  rules: FakeSqlRule[];
}

/** A query the fake received. */
export interface FakeSqlRequest {
  method: string;
  authorization: string | null;
  contentType: string | null;
  sql: string;
}

const SQL_PATH = /^\/client\/v4\/accounts\/([^/]+)\/analytics_engine\/sql$/;
const CONTROL_PATH = /^\/__control\/accounts\/([^/]+)(\/requests)?$/;

/**
 * A stand-in for the Workers Analytics Engine SQL API on 127.0.0.1, speaking its wire format:
 * `POST /client/v4/accounts/<id>/analytics_engine/sql` with a bearer token and the SQL as the
 * body. Each test scripts its own account id (so parallel test files never share state):
 * `PUT /__control/accounts/<id>` with a {@link FakeSqlScript}, then reads what was asked at
 * `GET /__control/accounts/<id>/requests`. An unscripted account or a wrong token gets the
 * 403 the real API gives; a query no rule matches gets a 422, so a test never passes on a
 * query it did not expect.
 */
export async function startFakeSqlApi(): Promise<LoopbackServer> {
  const scripts = new Map<string, FakeSqlScript>();
  const requests = new Map<string, FakeSqlRequest[]>();
  const server = createServer((req, res) => void handle(req, res, scripts, requests));
  return listenOnLoopback(server);
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  scripts: Map<string, FakeSqlScript>,
  requests: Map<string, FakeSqlRequest[]>,
): Promise<void> {
  const body = await readBody(req);
  const path = new URL(req.url ?? '/', 'http://fake').pathname;
  const control = CONTROL_PATH.exec(path);
  if (control) {
    const account = control[1]!;
    if (control[2]) return send(res, 200, JSON.stringify(requests.get(account) ?? []));
    if (req.method === 'PUT') {
      scripts.set(account, JSON.parse(body) as FakeSqlScript);
      requests.set(account, []);
      return send(res, 204, '');
    }
    return send(res, 405, '');
  }
  const sqlPath = SQL_PATH.exec(path);
  if (!sqlPath) return send(res, 404, cfError(7000, 'No route for that URI'));
  const account = decodeURIComponent(sqlPath[1]!);
  const request: FakeSqlRequest = {
    method: req.method ?? '',
    authorization: req.headers.authorization ?? null,
    contentType: req.headers['content-type'] ?? null,
    sql: body,
  };
  requests.get(account)?.push(request);
  const script = scripts.get(account);
  if (req.method !== 'POST') return send(res, 405, cfError(10000, 'Method not allowed'));
  if (!script || request.authorization !== `Bearer ${script.token}`)
    return send(res, 403, cfError(10000, 'Authentication error'));
  const rule = script.rules.find(
    (candidate) =>
      (candidate.sql === undefined || candidate.sql === body) &&
      (candidate.sqlIncludes === undefined || body.includes(candidate.sqlIncludes)),
  );
  if (!rule) return send(res, 422, `no scripted answer for this query:\n${body}`);
  const { answer } = rule;
  if (answer.hang) return; // the socket stays open until the client gives up
  const text = answer.body ?? JSON.stringify(answer.json ?? {});
  send(res, answer.status ?? 200, text);
}

function cfError(code: number, message: string): string {
  return JSON.stringify({ success: false, errors: [{ code, message }], messages: [], result: null });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, body ? { 'content-type': 'application/json' } : {});
  res.end(body);
}
