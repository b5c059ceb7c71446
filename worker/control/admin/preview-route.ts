import type { Handler } from 'hono';
import {
  PreviewTooLargeError,
  previewChange,
  type Preview,
  type RecentTraffic,
} from '../../../src/admin/preview';
import { PreviewBodySchema, previewCommand } from '../../../src/admin/preview-request';
import { createAnalyticsSqlClient, readWindowStats } from '../../../src/guard/analytics-sql';
import { parseGuardSettings } from '../../../src/guard/guard-settings';
import type { ControlDeps } from '../control-deps';
import { AdminError, commandOptions, readJsonBody, type AdminEnv } from './admin-http';
import { readAdminState, readHandKill } from './read-routes';

/** How far back the request figures of a preview look. */
const TRAFFIC_WINDOW_MINUTES = 60;
/** Traffic is read at most this often per isolate: a preview must not hammer the SQL API. */
const TRAFFIC_CACHE_MS = 60_000;
/** A preview waits this long at most for the SQL API, then answers with shares only. */
const TRAFFIC_TIMEOUT_MS = 3_000;

/** What the request figures of a preview rest on, or why there are none. */
export type TrafficReading = { ok: true; traffic: RecentTraffic } | { ok: false; reason: string };

/**
 * `POST /preview`: what a proposed change would move. The change runs as a dry run of the
 * write it stands for, through the control plane (so lifecycle rules, undo's history and
 * `If-Match` apply exactly as on the real write, and nothing changes), then
 * {@link previewChange} compares the current version with the one the write would make, within its
 * work budget (a change too large to estimate is `422`). With the
 * SQL API configured, shares become requests seen in the last hour (estimates).
 */
export function previewHandler(deps: ControlDeps): Handler<AdminEnv> {
  const traffic = recentTraffic(deps);
  return async function previewRoute(c) {
    const body = await readJsonBody(c.req.raw, PreviewBodySchema, { required: true });
    // Only a new salt needs the current config: it is written as the whole config.
    const current = 'salt' in body ? (await readAdminState(deps)).config : undefined;
    const command = previewCommand(body, current);
    const options = { ...commandOptions(c), now: deps.clock.now(), dryRun: true };
    const [result, hand, reading] = await Promise.all([
      deps.control.command(command, options),
      readHandKill(deps),
      traffic(c.env as Record<string, unknown>),
    ]);
    if (!result.ok)
      throw new AdminError(result.status, result.error, result.issues, result.retryAfterSeconds);
    const preview: Preview = boundedPreview(() =>
      previewChange(
        { config: result.previous, kill: result.previousKill },
        { config: result.config, kill: result.kill },
        { handKill: hand, ...(reading.ok ? { traffic: reading.traffic } : {}) },
      ),
    );
    if (!reading.ok) preview.summary.push(`No request figures: ${reading.reason}.`);
    c.header('etag', `"${result.previous.version}"`);
    return c.json({
      currentVersion: result.previous.version,
      version: result.version,
      changed: result.changed,
      config: result.config,
      kill: result.kill,
      preview,
    });
  };
}

// The preview sizes its work before doing it (preview.ts); what does not fit is a 422, not a stall.
function boundedPreview(run: () => Preview): Preview {
  try {
    return run();
  } catch (error) {
    if (error instanceof PreviewTooLargeError) throw new AdminError(422, error.message);
    throw error;
  }
}

/**
 * Requests per cohort over the last hour from the Analytics Engine SQL API, cached per isolate;
 * `ok: false` with the reason when the API is not configured or did not answer.
 */
export function recentTraffic(
  deps: Pick<ControlDeps, 'clock' | 'fetch'>,
): (env: Record<string, unknown>) => Promise<TrafficReading> {
  let cached: { at: number; reading: TrafficReading } | undefined;
  return async function readTraffic(env) {
    const now = deps.clock.now();
    if (cached && now - cached.at < TRAFFIC_CACHE_MS) return cached.reading;
    const guard = parseGuardSettings(env ?? {});
    if (!guard.enabled) return { ok: false, reason: guard.reason };
    const sql = createAnalyticsSqlClient({
      ...guard.settings.sql,
      fetch: deps.fetch,
      timeoutMs: TRAFFIC_TIMEOUT_MS,
    });
    const stats = await readWindowStats(sql, guard.settings.dataset, { lastMinutes: TRAFFIC_WINDOW_MINUTES });
    const reading: TrafficReading = stats.ok
      ? {
          ok: true,
          traffic: {
            windowMinutes: TRAFFIC_WINDOW_MINUTES,
            stable: stats.stats.stable.requests,
            canary: stats.stats.canary.requests,
          },
        }
      : { ok: false, reason: `the Analytics Engine SQL API did not answer (${stats.error})` };
    cached = { at: now, reading };
    return reading;
  };
}
