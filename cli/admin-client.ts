import type * as z from 'zod/mini';
import {
  AuditPageSchema,
  ErrorBodySchema,
  HealthSchema,
  StateBodySchema,
  WriteResultSchema,
} from '../src/admin/admin-schemas';
import type { FlagBodySchema } from '../src/admin/admin-schemas';
import type { AuditEntry } from '../src/admin/history-and-audit';
import { describeIssues } from '../src/config/parse-config';
import type { Connection } from './command-line';
import type { KillTargets, Since, Transition } from './commands';
import { ApiError, UnreachableError, UnreadableResponseError } from './errors';

/** A validated answer, and the JSON exactly as the API sent it (for `--json`). */
export interface ApiResult<T> {
  data: T;
  raw: unknown;
  /** The answer's `ETag` (the committed version on `GET /state` and writes), when sent. */
  etag: string | null;
}

/** `GET /state`. */
export type StateBody = z.infer<typeof StateBodySchema>;
/** Every config write. */
export type WriteResult = z.infer<typeof WriteResultSchema>;
/** `PUT /kill` and `DELETE /kill`. */
export type KillResult = z.infer<typeof WriteResultSchema>;
/** One `GET /audit` page. */
export type AuditPage = z.infer<typeof AuditPageSchema>;

/**
 * How a write is sent. `ifMatch`: the config version the write was confirmed on (the preview's
 * `currentVersion`), sent as `If-Match`, so that the API refuses it with `412` when someone else
 * changed the rollout in between, instead of overwriting their change.
 */
export interface WriteOptions {
  ifMatch?: number;
}

/** The admin API, one method per route the CLI uses. */
export interface AdminClient {
  health(): Promise<ApiResult<z.infer<typeof HealthSchema>>>;
  state(): Promise<ApiResult<StateBody>>;
  setPercent(percent: number, reason?: string, options?: WriteOptions): Promise<ApiResult<WriteResult>>;
  transition(name: Transition, reason?: string, options?: WriteOptions): Promise<ApiResult<WriteResult>>;
  setFlag(name: string, change: FlagChange, options?: WriteOptions): Promise<ApiResult<WriteResult>>;
  kill(targets: KillTargets, reason?: string, options?: WriteOptions): Promise<ApiResult<KillResult>>;
  unkill(reason?: string, options?: WriteOptions): Promise<ApiResult<KillResult>>;
  auditPage(query: { limit: number; cursor?: string }): Promise<ApiResult<AuditPage>>;
  /** Any other route, checked against `schema` (the launch commands' preview, config and links). */
  call<S extends z.ZodMiniType>(
    method: string,
    path: string,
    schema: S,
    body?: object,
    options?: WriteOptions,
  ): Promise<ApiResult<z.infer<S>>>;
}

/** A `PUT /flags/:name` body: `{enabled, percent?}`, `{flag}` (a definition) or `{weights}`. */
export type FlagChange = z.input<typeof FlagBodySchema>;

/** Options of {@link createAdminClient}. */
export interface AdminClientOptions {
  connection: Pick<Connection, 'url' | 'prefix' | 'token' | 'actor'>;
  /** Replaceable for tests; the global fetch otherwise. */
  fetch?: typeof fetch;
  /** How long one request may take before the API counts as unreachable. */
  timeoutMs?: number;
}

/**
 * An HTTP client of the admin API. Headers are built once; every answer is checked against the
 * admin API's own response schemas; failures become {@link ApiError} (exit 1) or
 * {@link UnreachableError} (exit 3).
 *
 * @example
 * const client = createAdminClient({ connection: { url, prefix: '/__rollout', token } });
 * const { data } = await client.setPercent(10, 'step 1');
 */
export function createAdminClient({
  connection,
  fetch: fetchImpl = fetch,
  timeoutMs = 15_000,
}: AdminClientOptions): AdminClient {
  const base = `${connection.url}${connection.prefix}`;
  const origin = new URL(connection.url).origin;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (connection.token) headers.authorization = `Bearer ${connection.token}`;
  if (connection.actor) headers['x-rollout-actor'] = connection.actor;

  async function send<S extends z.ZodMiniType>(
    method: string,
    path: string,
    schema: S,
    body?: object,
    options: WriteOptions = {},
  ): Promise<ApiResult<z.infer<S>>> {
    const route = `${method} ${connection.prefix}${path.replace(/\?.*$/, '')}`;
    let status: number;
    let text: string;
    let retryAfter: string | null;
    let etag: string | null;
    try {
      const response = await fetchImpl(`${base}${path}`, {
        method,
        headers: {
          ...headers,
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...(options.ifMatch === undefined ? {} : { 'if-match': `"${options.ifMatch}"` }),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      etag = response.headers.get('etag');
      text = await response.text();
    } catch (error) {
      throw new UnreachableError(origin, error);
    }
    const json = parseJson(text);
    if (status < 200 || status > 299) throw apiError(route, status, json, text, retryAfter);
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new UnreadableResponseError(route, describeIssues(parsed.error));
    return { data: parsed.data, raw: json, etag };
  }

  const withReason = (reason?: string) => (reason === undefined ? {} : { reason });

  return {
    health: () => send('GET', '/health', HealthSchema),
    state: () => send('GET', '/state', StateBodySchema),
    setPercent: (percent, reason, options) =>
      send('PUT', '/percent', WriteResultSchema, { percent, ...withReason(reason) }, options),
    transition: (name, reason, options) =>
      send('POST', `/${name}`, WriteResultSchema, withReason(reason), options),
    setFlag: (name, change, options) =>
      send('PUT', `/flags/${encodeURIComponent(name)}`, WriteResultSchema, change, options),
    kill: (targets, reason, options) =>
      send('PUT', '/kill', WriteResultSchema, { ...targets, ...withReason(reason) }, options),
    unkill: (reason, options) => send('DELETE', '/kill', WriteResultSchema, withReason(reason), options),
    auditPage: ({ limit, cursor }) => {
      const query = new URLSearchParams({ limit: String(limit) });
      if (cursor) query.set('cursor', cursor);
      return send('GET', `/audit?${query}`, AuditPageSchema);
    },
    call: send,
  };
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

function apiError(
  route: string,
  status: number,
  json: unknown,
  text: string,
  retryAfter: string | null,
): ApiError {
  const body = ErrorBodySchema.safeParse(json);
  // A proxy or the platform may answer instead of the API (an HTML 502): show its start.
  const message = body.success
    ? body.data.error
    : text.replace(/\s+/g, ' ').trim().slice(0, 200) || 'no body';
  const seconds = retryAfter !== null && /^\d{1,6}$/.test(retryAfter) ? Number(retryAfter) : undefined;
  return new ApiError(
    `${route} answered ${status}: ${message}`,
    status,
    body.success ? (body.data.issues ?? []) : [],
    seconds,
  );
}

/** The API's largest page. */
const PAGE_SIZE = 100;

/** What {@link readAudit} collected: the entries as sent, and where to continue (or null). */
export interface AuditSelection {
  entries: AuditEntry[];
  raw: unknown[];
  cursor: string | null;
}

/**
 * Reads audit entries newest first, page after page, until `limit` entries are in hand, an
 * entry older than `since` shows up, or the log ends. Bounded by `limit`: at most
 * ceil(limit / 100) + 1 requests.
 *
 * @example
 * const { entries } = await readAudit(client, { limit: 1000, since: { agoMs: 86_400_000 } }, Date.now());
 */
export async function readAudit(
  client: AdminClient,
  query: { limit: number; cursor?: string; since?: Since },
  nowMs: number,
): Promise<AuditSelection> {
  const sinceMs = query.since && ('agoMs' in query.since ? nowMs - query.since.agoMs : query.since.atMs);
  const entries: AuditEntry[] = [];
  const raw: unknown[] = [];
  let cursor: string | null = query.cursor ?? null;
  let first = true;
  while (entries.length < query.limit && (first || cursor !== null)) {
    first = false;
    const page = await client.auditPage({
      limit: Math.min(PAGE_SIZE, query.limit - entries.length),
      ...(cursor ? { cursor } : {}),
    });
    cursor = page.data.cursor;
    const rawEntries = Array.isArray((page.raw as { entries?: unknown })?.entries)
      ? ((page.raw as { entries: unknown[] }).entries as unknown[])
      : [];
    for (const [index, entry] of page.data.entries.entries()) {
      if (sinceMs !== undefined && Date.parse(entry.at) < sinceMs) return { entries, raw, cursor: null };
      entries.push(entry);
      raw.push(rawEntries[index]);
    }
  }
  return { entries, raw, cursor };
}
