import { describeIssues } from '../config/describe-issues';
import { SqlJsonResponseSchema } from './sql-response-schema';

/** The `fetch` the client uses (the runtime's, or a test's). */
export type SqlFetch = (input: string, init: RequestInit) => Promise<Response>;

/** Options of {@link createAnalyticsSqlClient}. */
export interface AnalyticsSqlClientOptions {
  /** `https://api.cloudflare.com`, or a stand-in that speaks the same wire format. */
  baseUrl: string;
  accountId: string;
  apiToken: string;
  fetch: SqlFetch;
  /** Bound on the whole exchange, body included. */
  timeoutMs?: number;
}

/** Rows of a query, or why there are none. Never a throw. */
export type SqlQueryResult = { ok: true; rows: Record<string, unknown>[] } | { ok: false; error: string };

/** Runs SQL against the Workers Analytics Engine SQL API. */
export interface AnalyticsSqlClient {
  query(sql: string): Promise<SqlQueryResult>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_ERROR_SNIPPET = 200;

/**
 * A client for `POST /client/v4/accounts/<id>/analytics_engine/sql`. An HTTP error, a timeout,
 * a body that is not JSON or not the expected shape all come back as `{ ok: false, error }`;
 * the error text never contains the token.
 *
 * @example
 * const sql = createAnalyticsSqlClient({ baseUrl, accountId, apiToken, fetch });
 * const result = await sql.query("SELECT 'ok' AS message FORMAT JSON");
 */
export function createAnalyticsSqlClient(options: AnalyticsSqlClientOptions): AnalyticsSqlClient {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/client/v4/accounts/${encodeURIComponent(options.accountId)}/analytics_engine/sql`;
  const headers = { authorization: `Bearer ${options.apiToken}`, 'content-type': 'text/plain' };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    async query(sql) {
      let status: number;
      let text: string;
      try {
        const response = await options.fetch(url, {
          method: 'POST',
          headers,
          body: sql,
          signal: AbortSignal.timeout(timeoutMs),
        });
        status = response.status;
        text = await response.text();
      } catch (error) {
        const name = (error as Error)?.name;
        if (name === 'TimeoutError' || name === 'AbortError')
          return { ok: false, error: `SQL API did not answer within ${timeoutMs} ms` };
        return { ok: false, error: `SQL API unreachable: ${String((error as Error)?.message ?? error)}` };
      }
      if (status < 200 || status > 299)
        return { ok: false, error: `SQL API answered ${status}: ${snippet(text)}` };
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return { ok: false, error: `SQL API answered non-JSON: ${snippet(text)}` };
      }
      const parsed = SqlJsonResponseSchema.safeParse(body);
      if (!parsed.success)
        return {
          ok: false,
          error: `SQL API answer has an unexpected shape: ${describeIssues(parsed.error).slice(0, 3).join('; ')}`,
        };
      return { ok: true, rows: parsed.data.data };
    },
  };
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_ERROR_SNIPPET ? `${flat.slice(0, MAX_ERROR_SNIPPET)}…` : flat || '(empty body)';
}
