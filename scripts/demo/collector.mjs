// The demo's stand-in for Workers Analytics Engine, on 127.0.0.1 only. The Worker, run with
// METRICS_COLLECTOR_URL (worker/metrics-collector-sink.ts), posts each data point to
// `POST /points`; the guard reads them back through the SQL API's wire format,
// `POST /client/v4/accounts/<id>/analytics_engine/sql` with a bearer token and the SQL as the
// body, answered in FORMAT JSON by collector-sql.mjs (just enough SQL for the guard's queries).
// Points are kept in memory, at most MAX_POINTS and MAX_AGE_MS: the demo's traffic is small.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { runQuery, SqlError } from './collector-sql.mjs';

const MAX_POINTS = 200_000;
const MAX_AGE_MS = 2 * 60 * 60 * 1000;
const MAX_BODY_BYTES = 64 * 1024;
const SQL_PATH = /^\/client\/v4\/accounts\/([^/]+)\/analytics_engine\/sql$/;

/**
 * Starts the collector. `accountId` and `token` are what the guard must send (the demo makes
 * them up; nothing leaves the machine); `dataset` is the table name the guard queries.
 *
 * @param {{ dataset?: string, clock?: () => number }} [options]
 * @returns {Promise<{ port: number, url: string, accountId: string, token: string, dataset: string,
 *   points: () => number, queries: () => number, close: () => Promise<void> }>}
 */
export async function startCollector({ dataset = 'edge_rollout', clock = Date.now } = {}) {
  const accountId = randomBytes(16).toString('hex');
  const token = randomBytes(24).toString('base64url');
  const rows = [];
  let queries = 0;

  const server = createServer(async (req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    let body;
    try {
      body = await readBody(req);
    } catch {
      return send(413, cfError(10000, `body over ${MAX_BODY_BYTES} bytes`));
    }
    const path = new URL(req.url ?? '/', 'http://collector').pathname;
    if (path === '/points' && req.method === 'POST') {
      const row = toRow(body, clock());
      if (!row) return send(400, { error: 'not a data point ({ indexes, blobs, doubles })' });
      rows.push(row);
      prune(rows, clock());
      return send(202, { accepted: 1 });
    }
    const sqlPath = SQL_PATH.exec(path);
    if (!sqlPath) return send(404, cfError(7000, 'No route for that URI'));
    if (req.method !== 'POST') return send(405, cfError(10000, 'Method not allowed'));
    if (decodeURIComponent(sqlPath[1]) !== accountId || req.headers.authorization !== `Bearer ${token}`)
      return send(403, cfError(10000, 'Authentication error'));
    queries++;
    try {
      prune(rows, clock());
      return send(200, runQuery(body, rows, { dataset, nowSeconds: Math.floor(clock() / 1000) }));
    } catch (error) {
      // The real API answers a query it cannot run with a 422 and ClickHouse's message.
      if (error instanceof SqlError) return send(422, `cannot run this query: ${error.message}`);
      return send(500, cfError(10000, String(error)));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    accountId,
    token,
    dataset,
    points: () => rows.length,
    queries: () => queries,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/**
 * A posted data point as a table row: blob1…, double1…, index1, the receive time as
 * `timestamp` (epoch seconds) and `_sample_interval` 1 (nothing is sampled here).
 */
function toRow(text, nowMs) {
  let point;
  try {
    point = JSON.parse(text);
  } catch {
    return undefined;
  }
  const valid =
    point &&
    Array.isArray(point.indexes) &&
    Array.isArray(point.blobs) &&
    point.blobs.length <= 20 &&
    point.blobs.every((blob) => typeof blob === 'string') &&
    Array.isArray(point.doubles) &&
    point.doubles.length <= 20 &&
    point.doubles.every((value) => typeof value === 'number' && Number.isFinite(value));
  if (!valid) return undefined;
  const row = {
    timestamp: Math.floor(nowMs / 1000),
    _sample_interval: 1,
    index1: String(point.indexes[0] ?? ''),
  };
  for (let n = 1; n <= 20; n++) {
    row[`blob${n}`] = point.blobs[n - 1] ?? '';
    row[`double${n}`] = point.doubles[n - 1] ?? 0;
  }
  return row;
}

function prune(rows, nowMs) {
  const oldest = Math.floor((nowMs - MAX_AGE_MS) / 1000);
  let drop = 0;
  while (drop < rows.length && (rows[drop].timestamp < oldest || rows.length - drop > MAX_POINTS)) drop++;
  if (drop > 0) rows.splice(0, drop);
}

function cfError(code, message) {
  return { success: false, errors: [{ code, message }], messages: [], result: null };
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
